"""Advanced augmentation: adversarial examples, weights-free style augmentation, generative mixing."""

from .adversarial import AdversarialAugment, fgsm, pgd
from .style import FourierAmplitudeMix, MixStyle, RandomStyle, StyleNetworkAugment, amplitude_mix, low_frequency_mask

__all__ = ["AdversarialAugment", "fgsm", "pgd", "FourierAmplitudeMix", "MixStyle", "RandomStyle", "StyleNetworkAugment", "amplitude_mix", "low_frequency_mask"]
