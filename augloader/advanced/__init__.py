"""Advanced augmentation: adversarial examples, weights-free style augmentation, generative mixing."""

from .adversarial import AdversarialAugment, fgsm, pgd
from .generative import ConditionalVAE, SyntheticDataset, SyntheticMix, topup_counts, train_vae
from .style import FourierAmplitudeMix, MixStyle, RandomStyle, StyleNetworkAugment, amplitude_mix, low_frequency_mask

__all__ = [
    "AdversarialAugment",
    "fgsm",
    "pgd",
    "ConditionalVAE",
    "SyntheticDataset",
    "SyntheticMix",
    "topup_counts",
    "train_vae",
    "FourierAmplitudeMix",
    "MixStyle",
    "RandomStyle",
    "StyleNetworkAugment",
    "amplitude_mix",
    "low_frequency_mask",
]
