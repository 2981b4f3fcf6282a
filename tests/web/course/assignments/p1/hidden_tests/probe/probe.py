import grader_probe as gp

solution = gp.load_solution()
pairs = [tuple(int(x) for x in line.split()) for line in gp.read_text("pairs.txt").splitlines()]

with gp.step("add", timeout_s=5) as s:
    s.emit("sums", [solution.add(a, b) for a, b in pairs])

with gp.step("mean", timeout_s=5) as s:
    s.emit("means", [float(solution.mean([a, b, a])) for a, b in pairs])

gp.done()
