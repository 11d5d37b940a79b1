"""augloader.audio.ops is a package of one-concept modules, and every op is still importable from it."""

import importlib
import pkgutil

import augloader.audio.ops as ops
from augloader.audio import ops as O


def _submodules():
    return [importlib.import_module(f"{ops.__name__}.{m.name}") for m in pkgutil.iter_modules(ops.__path__)]


def test_every_submodule_op_is_re_exported_once():
    defined = {}
    for module in _submodules():
        for name in getattr(module, "__all__", ()):
            assert name not in defined, f"{name} defined in {defined.get(name)} and {module.__name__}"
            defined[name] = module.__name__
            assert getattr(ops, name) is getattr(module, name)
    assert sorted(defined) == sorted(ops.__all__)


def test_old_import_paths_keep_working():
    from augloader.audio.ops import length_mask, pitch_shift, time_shift
    from augloader.audio.ops.pitch import pitch_shift as pitch_shift_here
    from augloader.audio.ops.time import time_shift as time_shift_here

    assert time_shift is time_shift_here and pitch_shift is pitch_shift_here and O.length_mask is length_mask
    assert O.time_shift.__module__ == "augloader.audio.ops.time"
    assert O.mel_filterbank.__module__ == "augloader.audio.ops.spectrogram"


def test_modules_stay_small():
    for module in _submodules():
        with open(module.__file__, encoding="utf-8") as f:
            assert len(f.readlines()) <= 150, f"{module.__name__} grew past 150 lines; split it by concept"
