"""Reference side of scripts/bench/roberta_step.mjs: the same RoBERTa + adapters training step in
Python torch (same libtorch). Reads {"config", "batch", "seq", "steps", "threads", "skipSets",
"forwardRepeats"} as JSON on stdin; prints step and forward timings (seconds) as JSON.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Adapter(nn.Module):
    def __init__(self, dim, bottleneck):
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.down = nn.Linear(dim, bottleneck)
        self.up = nn.Linear(bottleneck, dim)

    def forward(self, x):
        return self.up(F.relu(self.down(self.ln(x))))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden"]
        self.heads = c["heads"]
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1 = nn.LayerNorm(h, eps=c["layerNormEps"])
        self.fc1 = nn.Linear(h, c["intermediate"])
        self.fc2 = nn.Linear(c["intermediate"], h)
        self.ln2 = nn.LayerNorm(h, eps=c["layerNormEps"])
        self.drop = nn.Dropout(c["hiddenDropout"])
        self.attn_drop = nn.Dropout(c["attentionDropout"])
        self.pa1 = Adapter(h, c["adapterBottleneck"])
        self.pa2 = Adapter(h, c["adapterBottleneck"])
        self.skip = Adapter(h, c["skipBottleneck"])

    def forward(self, x, mask):
        b, t, h = x.shape
        d = h // self.heads
        split = lambda y: y.view(b, t, self.heads, d).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        p = self.attn_drop((q @ k.transpose(-1, -2) / math.sqrt(d) + mask).softmax(-1))
        a = (p @ v).transpose(1, 2).reshape(b, t, h)
        x2 = self.ln1(x + self.drop(self.o(a)) + self.pa1(x))
        f = self.drop(self.fc2(F.gelu(self.fc1(x2))))
        return self.ln2(x2 + f + self.pa2(x2))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden"]
        self.pad = c["padTokenId"]
        self.words = nn.Embedding(c["vocabSize"], h)
        self.positions = nn.Embedding(c["maxPositions"], h)
        self.types = nn.Embedding(1, h)
        self.ln = nn.LayerNorm(h, eps=c["layerNormEps"])
        self.drop = nn.Dropout(c["hiddenDropout"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["layers"]))
        self.dense = nn.Linear(h, h)
        self.out = nn.Linear(h, c["numLabels"])

    def forward(self, ids, keep, skipped=()):
        not_pad = ids.ne(self.pad).long()
        pos = torch.cumsum(not_pad, 1) * not_pad + self.pad
        x = self.drop(self.ln(self.words(ids) + self.positions(pos) + self.types(torch.zeros_like(ids))))
        mask = (1.0 - keep.float())[:, None, None, :] * torch.finfo(torch.float32).min
        for i, layer in enumerate(self.layers):
            x = x + layer.skip(x) if i in skipped else layer(x, mask)
        return self.out(self.drop(torch.tanh(self.dense(self.drop(x[:, 0])))))


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    r = json.load(sys.stdin)
    torch.set_num_threads(r["threads"])
    torch.manual_seed(0)
    model = Model(r["config"])
    for name, p in model.named_parameters():
        p.requires_grad_(".pa" in name or ".skip." in name or name.startswith(("dense", "out")))
    decay = [p for n, p in model.named_parameters() if p.requires_grad and not n.endswith("bias") and ".ln." not in n]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and (n.endswith("bias") or ".ln." in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    ids = torch.randint(3, r["config"]["vocabSize"], (r["batch"], r["seq"]))
    keep = torch.ones_like(ids)
    labels = torch.randint(0, r["config"]["numLabels"], (r["batch"],))

    model.train()
    step_times = []
    for i in range(r["steps"] + 2):
        start = time.perf_counter()
        F.cross_entropy(model(ids, keep), labels).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= 2:
            step_times.append(time.perf_counter() - start)

    model.eval()
    forward = {}
    with torch.no_grad():
        for skip in r["skipSets"]:
            skipped = {int(name[2:]) for name in skip}
            times = []
            for i in range(r["forwardRepeats"] + 1):
                start = time.perf_counter()
                model(ids, keep, skipped)
                if i >= 1:
                    times.append(time.perf_counter() - start)
            forward[",".join(skip)] = median(times)
    print(json.dumps({"step": median(step_times), "forward": forward, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
