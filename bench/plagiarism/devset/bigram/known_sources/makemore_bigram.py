"""Known source for the bigram task: the lecture's bigram model (Karpathy, "The spelled-out intro to language modeling:
building makemore", part 1), cell by cell as the lecture shows it, with torch transcribed to numpy, the library the
assignment uses.

Written from the lecture for the plagiarism dev set; not derived from the dev set's solutions (independent/, rewrites/).
"""

import numpy as np

words = open("names.txt", "r").read().splitlines()

chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}

N = np.zeros((27, 27), dtype=np.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        N[ix1, ix2] += 1

P = (N + 1).astype(np.float32)
P /= P.sum(1, keepdims=True)

g = np.random.default_rng(2147483647)
for i in range(5):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = g.choice(27, p=p)
        out.append(itos[ix])
        if ix == 0:
            break
    print("".join(out))

log_likelihood = 0.0
n = 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        prob = P[ix1, ix2]
        logprob = np.log(prob)
        log_likelihood += logprob
        n += 1
print(f"{log_likelihood=}")
nll = -log_likelihood
print(f"{nll=}")
print(f"{nll / n}")
