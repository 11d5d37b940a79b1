"""Data integration: Dataset wrapper, collate_fn, device hook, splits, class balance, seeding, previews."""

from .augmented_loader import AugmentedLoader, loader
from .balance import ClassBalancedAugment, ClassStrength
from .collate import BatchAugment
from .dataset import AugmentedDataset, AugmentedIterableDataset
from .device import DeviceAugmenter
from .export import ExportError, ExportResult, export_augmented
from .folder import ImageFolder
from .lazy import ImageDecodeError, LazyImage
from .placement import PipelineParts, split_pipeline
from .preview import make_grid, preview_grid, save_image
from .seeding import BatchIndices, IndexedBatchSampler, SampleBatch, SeededRandomSampler, derive_seed, make_generator
from .split import SplitView, split_dataset

__all__ = [
    "AugmentedDataset",
    "AugmentedIterableDataset",
    "AugmentedLoader",
    "BatchAugment",
    "BatchIndices",
    "ClassBalancedAugment",
    "ClassStrength",
    "DeviceAugmenter",
    "ExportError",
    "ExportResult",
    "ImageDecodeError",
    "ImageFolder",
    "IndexedBatchSampler",
    "LazyImage",
    "PipelineParts",
    "SampleBatch",
    "SeededRandomSampler",
    "SplitView",
    "derive_seed",
    "export_augmented",
    "loader",
    "make_generator",
    "make_grid",
    "preview_grid",
    "save_image",
    "split_dataset",
    "split_pipeline",
]
