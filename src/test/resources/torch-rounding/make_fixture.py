"""Writes the fixture InputRoundingTest checks: PyTorch's own BF16/F16 arithmetic on the CPU.

Run with a PyTorch that has BF16 and F16 kernels on the CPU (2.x; 1.13 lacks some F16 ones):
    python make_fixture.py      # writes <dtype>.bin here
Each file holds little-endian 16-bit words: a, b, c (256 each, random, some exact ties included), then
a*b, a+b, a-b, a/b, a*0.3 (a Python scalar), torch.stack([a, b, c]).sum(0), and
(torch.tensor([0.3, 0.5, 0.2], dtype) * stack).sum(0).
"""
import torch

torch.manual_seed(7)
n = 256
a = torch.randn(n) * 0.02
b = torch.randn(n) * 0.02 + 0.001
c = torch.randn(n) * 0.02
c[:16] = -a[:16]  # sums that cancel exactly
for dt, name in [(torch.bfloat16, "bf16"), (torch.float16, "f16")]:
    A, B, C = a.to(dt), b.to(dt), c.to(dt)
    S = torch.stack([A, B, C])
    w = torch.tensor([0.3, 0.5, 0.2], dtype=dt).view(3, 1)
    parts = [A, B, C, A * B, A + B, A - B, A / B, A * 0.3, S.sum(0), (w * S).sum(0)]
    torch.cat(parts).view(torch.int16).numpy().astype("<i2").tofile(name + ".bin")
print(torch.__version__)
