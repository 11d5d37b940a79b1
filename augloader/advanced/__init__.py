"""Advanced augmentation: weights-free style augmentation (more in later modules)."""

from .style import FourierAmplitudeMix, MixStyle, RandomStyle, StyleNetworkAugment, amplitude_mix, low_frequency_mask

__all__ = ["FourierAmplitudeMix", "MixStyle", "RandomStyle", "StyleNetworkAugment", "amplitude_mix", "low_frequency_mask"]
