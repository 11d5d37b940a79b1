"""``augloader.compile(pipeline)``: the apply step of a pipeline through ``torch.compile(fullgraph=True)``.

A call has two halves. Drawing the random parameters stays eager, outside the graph (random draws
inside a graph split it and would change the generator's stream); applying them is pure tensor work
that compiles into one graph, with the ops' fusable kernels (``ops._kernels``) so that inductor fuses
a warp, the colour ops and Normalize into few loops. The batch dimension is marked dynamic, so a
last, shorter batch does not recompile.

Inductor keeps what it builds in an on-disk cache (``torch._inductor.runtime.cache_dir_utils.cache_dir()``,
by default ``/tmp/torchinductor_<user>``; ``TORCHINDUCTOR_CACHE_DIR`` moves it), so a second process
compiling the same pipeline mostly reads from it.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping, Optional, Sequence

import torch
from torch import Tensor, nn

from ._batch import Batch, BatchView
from .ops._kernels import fusable_kernels
from .transforms._types import Params

__all__ = ["CompiledPipeline", "compile"]

#: What a failed compilation raises: dynamo's errors (graph breaks under fullgraph, backend failures,
#: inductor's own InductorError) and the C++ toolchain errors inductor may raise unwrapped.
_COMPILE_ERRORS: tuple[type[BaseException], ...] = (torch._dynamo.exc.TorchDynamoException,)
try:
    from torch._inductor import exc as _inductor_exc

    _COMPILE_ERRORS += (_inductor_exc.CppCompileError, _inductor_exc.InvalidCxxCompiler)
except (ImportError, AttributeError):  # an older torch without these names: dynamo's errors only
    pass


def cache_dir() -> str:
    """Where inductor keeps compiled kernels on disk (``TORCHINDUCTOR_CACHE_DIR`` moves it)."""
    from torch._inductor.runtime.cache_dir_utils import cache_dir as _cache_dir

    return _cache_dir()


def _mark_batch_dynamic(tree: Any, b: int) -> None:
    """Marks dimension 0 of every tensor of ``tree`` whose length is the batch size ``b`` as dynamic."""
    if isinstance(tree, Tensor):
        if tree.dim() > 0 and tree.shape[0] == b:
            torch._dynamo.maybe_mark_dynamic(tree, 0)
    elif isinstance(tree, Mapping):
        for v in tree.values():
            _mark_batch_dynamic(v, b)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            _mark_batch_dynamic(v, b)


class CompiledPipeline(nn.Module):
    """A pipeline whose apply step runs compiled; see :func:`compile`.

    Behaves like the pipeline: ``forward(batch, params=None, generator=None)``, ``sample_params``,
    ``last_params`` (shared with the pipeline), and ``params=`` replays a call exactly.

    Shape:
        like the wrapped pipeline: ``(C, H, W)`` / ``(B, C, H, W)`` or a dict with an ``image``.
    """

    def __init__(
        self,
        pipeline: nn.Module,
        *,
        dynamic_batch: bool = True,
        mode: Optional[str] = None,
        backend: str | Callable = "inductor",
    ) -> None:
        super().__init__()
        if not isinstance(pipeline, nn.Module) or not hasattr(pipeline, "sample_params"):
            raise TypeError(
                f"augloader.compile needs an augloader pipeline (a Transform such as Compose), "
                f"got {type(pipeline).__name__}"
            )
        if not isinstance(dynamic_batch, bool):
            raise TypeError(f"dynamic_batch must be True or False, got {dynamic_batch!r}")
        self.pipeline = pipeline
        self.dynamic_batch = dynamic_batch
        self.mode = mode
        self.backend = backend
        self.fallback_reason: Optional[str] = None  # set when compiling failed and calls run eager
        self._compiled: Optional[Callable] = None

    # ---- the pipeline's interface ----------------------------------------------------------------
    @property
    def last_params(self) -> Optional[Params]:
        """The params of the last call (the pipeline's own ``last_params``); pass them back to replay."""
        return getattr(self.pipeline, "last_params", None)

    def sample_params(self, *args: Any, **kwargs: Any) -> Params:
        """Draws parameters eagerly: the pipeline's own ``sample_params`` (same arguments, same stream)."""
        return self.pipeline.sample_params(*args, **kwargs)

    def _draw(self, batch: Batch, generator: Optional[torch.Generator]) -> Params:
        from .mix import MixUpCutMix  # mixing draws from (batch size, image size); mix imports transforms

        if isinstance(self.pipeline, MixUpCutMix):
            from .mix._parsing import parse_batch

            image = parse_batch(batch)[0]
            return self.pipeline.sample_params(image.shape[0], tuple(image.shape[-2:]), generator)
        view = BatchView.parse(batch)
        if getattr(self.pipeline, "needs_targets", False):
            from .transforms.stages import box_targets  # the boxes the draw needs, as the pipeline reads them

            targets = box_targets(view, getattr(self.pipeline, "target_options", None))
            return self.sample_params(tuple(view.image.shape), generator, targets=targets)
        return self.sample_params(tuple(view.image.shape), generator)

    def forward(
        self, batch: Batch, params: Optional[Params] = None, generator: Optional[torch.Generator] = None
    ) -> Batch:
        """Draws parameters eagerly (or replays ``params``), then applies them through the compiled graph."""
        if params is None:
            params = self._draw(batch, generator)
        if self.fallback_reason is None:
            try:
                out = self._run_compiled(batch, params)
            except _COMPILE_ERRORS as err:
                out = self.pipeline(batch, params=params)  # a user error raises here, as it would eager
                self._fall_back(err)
        else:
            out = self.pipeline(batch, params=params)
        self.pipeline.last_params = params  # exactly what a replay needs
        return out

    # ---- compilation -----------------------------------------------------------------------------
    def _apply(self, batch: Batch, params: Params) -> Batch:
        return self.pipeline(batch, params=params)

    def _build(self) -> Callable:
        if self._compiled is None:
            self._compiled = torch.compile(
                self._apply,
                fullgraph=True,
                backend=self.backend,
                mode=self.mode,
                dynamic=None if self.dynamic_batch else False,
            )
        return self._compiled

    def _run_compiled(self, batch: Batch, params: Params) -> Batch:
        compiled = self._build()
        image = batch["image"] if isinstance(batch, Mapping) else batch
        if self.dynamic_batch and isinstance(image, Tensor) and image.dim() == 4:
            _mark_batch_dynamic(batch, image.shape[0])
            _mark_batch_dynamic(params, image.shape[0])
        with fusable_kernels():
            return compiled(batch, params)

    def _fall_back(self, err: BaseException) -> None:
        cause = getattr(err, "inner_exception", None) or err  # a backend failure wraps the real error
        first = (str(cause).strip().splitlines() or [""])[0][:300]
        self.fallback_reason = f"{type(cause).__name__}: {first}"
        warnings.warn(
            f"augloader.compile: could not compile {type(self.pipeline).__name__} with torch.compile "
            f"(backend={self._backend_name()!r}, fullgraph=True): {self.fallback_reason}. "
            "This pipeline now runs eager (same results, eager speed).",
            RuntimeWarning,
            stacklevel=5,
        )

    def _backend_name(self) -> str:
        return self.backend if isinstance(self.backend, str) else getattr(self.backend, "__name__", "custom")

    def warmup(
        self,
        shape: Sequence[int],
        dtype: torch.dtype = torch.uint8,
        device: torch.device | str = "cpu",
        num_threads: Optional[int] = None,
    ) -> "CompiledPipeline":
        """Compiles now for batches of ``shape`` (any batch size after it when ``dynamic_batch``).

        Call it in the main process before DataLoader workers start. The graph is guarded on the torch
        thread count, and workers run one thread: pass ``num_threads=1`` so that forked workers reuse
        the compiled code instead of compiling again. Spawned workers unpickle the wrapper without it
        and compile on their first batch, reading inductor's on-disk cache. Leaves ``last_params`` as
        it was. Returns ``self``.
        """
        shape = tuple(int(s) for s in shape)
        if len(shape) != 4:
            raise ValueError(f"warmup needs a batch shape (B, C, H, W), got {shape}")
        if num_threads is not None and (
            isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1
        ):
            raise ValueError(f"num_threads must be a positive int or None, got {num_threads!r}")
        generator = torch.Generator().manual_seed(0)
        if dtype == torch.uint8:
            image = torch.randint(0, 256, shape, dtype=dtype, generator=generator).to(device)
        else:
            image = torch.rand(shape, generator=generator).to(device=device, dtype=dtype)
        previous, threads = self.last_params, torch.get_num_threads()
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            self(image, generator=generator)  # in the caller's grad mode: the graph is guarded on it
        finally:
            torch.set_num_threads(threads)
            self.pipeline.last_params = previous
        return self

    # ---- pickling (DataLoader workers) -------------------------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_compiled"] = None  # compiled code does not pickle: a worker compiles again (disk cache)
        return state

    def extra_repr(self) -> str:
        how = (
            f"eager fallback ({self.fallback_reason})" if self.fallback_reason else f"backend={self._backend_name()!r}"
        )
        return f"{how}, dynamic_batch={self.dynamic_batch}, mode={self.mode!r}"


def compile(
    pipeline: nn.Module,
    *,
    dynamic_batch: bool = True,
    mode: Optional[str] = None,
    warmup_shape: Optional[Sequence[int]] = None,
    backend: str | Callable = "inductor",
) -> CompiledPipeline:
    """Wraps ``pipeline`` so that its apply step runs through ``torch.compile(fullgraph=True)``.

    Parameters are drawn eagerly (same generator stream and ``last_params`` replay as the pipeline);
    the apply step compiles once per input shape and dtype, with the batch dimension dynamic so that a
    shorter last batch reuses the graph. If compiling fails (no C++ compiler, a graph break), the
    wrapper warns once and runs the pipeline eager from then on.

    Args:
        pipeline: an augloader transform or ``Compose``.
        dynamic_batch: compile one graph for every batch size (else one per size).
        mode: ``torch.compile``'s mode (``None``, ``"max-autotune"``, ...).
        warmup_shape: ``(B, C, H, W)``: compile now on a uint8 batch of this shape (see ``warmup``).
        backend: ``torch.compile``'s backend; ``"inductor"`` fuses, ``"eager"``/``"aot_eager"`` only trace.

    Returns:
        a :class:`CompiledPipeline` (an ``nn.Module``; it pickles for DataLoader workers).

    Shape:
        like the wrapped pipeline.
    """
    wrapper = CompiledPipeline(pipeline, dynamic_batch=dynamic_batch, mode=mode, backend=backend)
    if warmup_shape is not None:
        wrapper.warmup(warmup_shape)
    return wrapper
