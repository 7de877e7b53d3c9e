"""Run the same trainings with MOSAIC and with PyTorch and print a markdown table.

bench/run.sh builds the binaries and calls this script; see docs/benchmarks.md.
Each case runs REPS times, alternating MOSAIC and PyTorch so that a change in
the machine's load affects both sides alike. Every run is a fresh process,
timed from launch to exit, under /usr/bin/time -v for its peak RSS.

Columns of the table:
- wall: median launch-to-exit time of the process (for the iris study, of
  the whole `mosaic run` or Python pool of 2 workers);
- step: median training time per optimiser step, as measured inside the
  process: all epochs, the per-epoch test evaluation included, divided by
  the number of steps;
- RSS: median peak resident set size of the largest process;
- start-up: median time from launch to the start of the first epoch;
- losses: median final train and test losses, with their range over the
  repetitions (the run-to-run spread), each repetition using its own seed.
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
TORCH_TRAIN = os.path.join(HERE, "torch_train.py")

# The MLP cases: inputs, hidden widths, epochs. Each has 10,000 generated
# samples, 80 % for training, batch 64, Adam with lr 1e-2, ReLU and MSELoss.
CASES = {
    "a": {"title": "(a) 2→4×4→1, 200 epochs", "inputs": 2, "hidden": [4, 4, 4, 4], "epochs": 200},
    "b": {"title": "(b) 64→3×256→1, 20 epochs", "inputs": 64, "hidden": [256, 256, 256], "epochs": 20},
}
SAMPLES = 10_000
CNN_TITLE = "(c) digits CNN, 25 epochs"
CNN_EPOCHS = 25

# ARGS holds the parsed command line and WORK the absolute scratch folder;
# main sets both.
ARGS = None
WORK = None

MLP_INI = """[PROCESS]
lr = 1e-2
epochs = {epochs}
loss_function = MSELoss
data_scheme = dataset
pipeline_scheme = model
run_files_path = runs
seed = 1

[MONITOR]
nb_processus = 1
multiplicity = 1

[data]
type = dataset
class = csv
path = {csv}
task = regression
train_prop = 0.8
batch_size = 64

[mlp]
type = model
class = mlp_brick
width = {width}
length = {length}
activation = relu
"""

# The digits CNN of examples/digits.ini, without its dropout, with the
# benchmark's batch size and learning rate. torch_train.py's digits_cnn
# builds the same network.
CNN_INI = """[PROCESS]
lr = 1e-2
epochs = {epochs}
loss_function = CrossEntropyLoss
data_scheme = dataset, image
pipeline_scheme = features, readout, head
run_files_path = runs
seed = 1

[MONITOR]
nb_processus = 1
multiplicity = 1

[digits]
type = dataset
class = csv
path = {csv}
train_prop = 0.7
batch_size = 64

[pixels]
type = image
class = image
pixel_max = 16

[cnn]
type = features
class = convolution
channels = "16, 32"
kernel = 3
pooling = True
activation = relu

[flatten]
type = readout
class = readout
kind = flatten

[mlp]
type = head
class = mlp_brick
width = 64
length = 1
activation = relu
"""


def generate_data(path, inputs, seed):
    """Write SAMPLES rows of a smooth regression target with a little noise."""
    rng = random.Random(seed)
    weights = [[rng.gauss(0, 1) for _ in range(inputs)] for _ in range(2)]
    scale = max(1.0, inputs ** 0.5)
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(inputs)] + ["y"]) + "\n")
        for _ in range(SAMPLES):
            x = [rng.uniform(-2, 2) for _ in range(inputs)]
            u = sum(w * v for w, v in zip(weights[0], x)) / scale
            v = sum(w * v for w, v in zip(weights[1], x)) / scale
            y = math.sin(u) * math.cos(v) + 0.1 * u * v + rng.gauss(0, 0.05)
            f.write(",".join(f"{value:.6f}" for value in x + [y]) + "\n")


def timed(cmd, cwd=None, first_epoch=None, env=None):
    """Run cmd under /usr/bin/time -v and return (wall seconds, peak RSS in
    MiB, (seconds from launch to the first stderr line that matches the
    regular expression first_epoch, that match), stdout). A failing command
    stops the benchmark with its stderr."""
    rusage = os.path.join(WORK, "rusage.txt")
    started = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", rusage] + cmd, cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_epoch = None
    stderr_lines = []
    for line in proc.stderr:
        stderr_lines.append(line)
        match = first_epoch and re.search(first_epoch, line)
        if seen_epoch is None and match:
            seen_epoch = (time.perf_counter() - started, match)
    stdout = proc.stdout.read()
    code = proc.wait()
    wall = time.perf_counter() - started
    if code != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited with {code}:\n{''.join(stderr_lines[-20:])}")
    with open(rusage) as f:
        kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read()).group(1))
    return wall, kib / 1024, seen_epoch, stdout


def run_mosaic_job(name, rep, ini_text):
    """Train the single pipeline of ini_text with mosaic-job, as replica rep
    with seed rep + 1, and return its measures. The replica number changes
    the data split, as the seed does on the PyTorch side."""
    folder = os.path.join(WORK, f"mosaic-{name}-{rep}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    ini = os.path.join(folder, "case.ini")
    with open(ini, "w") as f:
        f.write(ini_text)
    subprocess.run([ARGS.mosaic, "generate", "-o", os.path.join(folder, "pipelines"), ini],
                   check=True, stdout=subprocess.DEVNULL)
    pipelines = [p for p in os.listdir(os.path.join(folder, "pipelines")) if p != "index.json"]
    with open(os.path.join(folder, "pipelines", pipelines[0])) as f:
        pipeline = json.load(f)
    spec = {"schema_version": 1, "run_id": f"bench-{name}-{rep}", "replica": rep,
            "seed": rep + 1, "pipeline": pipeline}
    spec_path = os.path.join(folder, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)

    # A fresh run folder, so that mosaic-job never resumes a checkpoint.
    wall, rss, first, _ = timed([ARGS.mosaic_job, "--spec", spec_path, "--out", folder,
                                 "--run-dir", os.path.join(folder, "run")],
                                first_epoch=r"epoch 1/")
    with open(os.path.join(folder, spec["run_id"] + ".json")) as f:
        res = json.load(f)
    if res["status"] != "done":
        sys.exit(f"bench: MOSAIC run of case {name} ended {res['status']}: {res.get('error', '')}")
    curves = res["curves"]
    train_size = next(p["value"] for p in res["params"] if p["kind"] == "info" and p["name"] == "train_size")
    steps = len(curves["train_loss"]) * -(-int(train_size) // 64)
    return {"wall": wall, "rss": rss, "startup": first[0] - curves["epoch_seconds"][0],
            "step": sum(curves["epoch_seconds"]) / steps,
            "train_loss": curves["train_loss"][-1], "test_loss": curves["test_loss"][-1]}


def run_mosaic_case(name, case, rep, csv_path):
    return run_mosaic_job(name, rep, MLP_INI.format(epochs=case["epochs"], csv=csv_path,
                                                    width=case["hidden"][0], length=len(case["hidden"])))


def torch_env():
    """Return the environment of the PyTorch processes: with --torch-blas, a
    library path that puts that folder's libblas.so.3 before the system's."""
    if not ARGS.torch_blas:
        return None
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ARGS.torch_blas + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def run_torch(args, rep):
    """Run torch_train.py with args and seed rep + 1 and return its measures."""
    wall, rss, first, stdout = timed([PYTHON, TORCH_TRAIN] + args + ["--seed", str(rep + 1)],
                                     first_epoch=r"^epoch 1 seconds=(\S+)", env=torch_env())
    res = json.loads(stdout.strip().splitlines()[-1])
    return {"wall": wall, "rss": rss, "startup": first[0] - float(first[1].group(1)),
            "step": res["train_seconds"] / res["steps"],
            "train_loss": res["train_loss"], "test_loss": res["test_loss"]}


def run_torch_case(case, rep, csv_path):
    return run_torch(["mlp", "--csv", csv_path, "--hidden", ",".join(map(str, case["hidden"])),
                      "--epochs", str(case["epochs"])], rep)


def has_convolution():
    """Report whether this build of mosaic registers the convolution stage."""
    out = subprocess.run([ARGS.mosaic, "classes"], check=True, capture_output=True, text=True).stdout
    return re.search(r"(?m)^convolution\s", out) is not None


def copy_iris(folder, seed):
    """Copy the iris example and its data into folder, with run files kept
    inside it, 2 worker processes and the given study seed, and return the
    config path."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "data"))
    shutil.copy(os.path.join(ARGS.repo, "examples", "data", "iris.csv"), os.path.join(folder, "data"))
    with open(os.path.join(ARGS.repo, "examples", "iris.ini")) as f:
        text = f.read()
    text = re.sub(r"(?m)^run_files_path\s*=.*$", "run_files_path = runs", text)
    text = re.sub(r"(?m)^nb_processus\s*=.*$", "nb_processus = 2", text)
    text = re.sub(r"(?m)^seed\s*=.*$", f"seed = {seed}", text)
    ini = os.path.join(folder, "iris.ini")
    with open(ini, "w") as f:
        f.write(text)
    return ini


def final_losses(db):
    """Return the mean last-epoch train and test losses of the runs in db."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("""
            SELECT count(*), avg(c.train_loss), avg(c.test_loss)
            FROM curves c
            JOIN (SELECT run_id, max(epoch) AS epoch FROM curves GROUP BY run_id) last
              ON c.run_id = last.run_id AND c.epoch = last.epoch""").fetchone()
    return row


def run_mosaic_iris(rep):
    folder = os.path.join(WORK, f"mosaic-iris-{rep}")
    ini = copy_iris(folder, rep + 1)
    db = os.path.join(folder, "iris.db")
    wall, rss, _, _ = timed([ARGS.mosaic, "run", ini, "--db", db, "--quiet"])
    runs, train_loss, test_loss = final_losses(db)
    if runs != 20:
        sys.exit(f"bench: the MOSAIC iris study finished {runs} runs of 20")
    return {"wall": wall, "rss": rss, "train_loss": train_loss, "test_loss": test_loss}


def run_torch_iris(rep):
    folder = os.path.join(WORK, f"torch-iris-{rep}")
    ini = copy_iris(folder, rep + 1)
    pipelines = os.path.join(folder, "pipelines")
    subprocess.run([ARGS.mosaic, "generate", "-o", pipelines, ini], check=True, stdout=subprocess.DEVNULL)
    wall, rss, _, stdout = timed([PYTHON, TORCH_TRAIN, "grid", "--pipelines", pipelines,
                                  "--data", os.path.join(folder, "data", "iris.csv"),
                                  "--replicas", "2", "--workers", "2", "--seed", str(rep + 1)],
                                 env=torch_env())
    res = json.loads(stdout.strip().splitlines()[-1])
    return {"wall": wall, "rss": rss, "train_loss": res["train_loss"], "test_loss": res["test_loss"]}


def measure_import_torch():
    wall, rss, _, _ = timed([PYTHON, "-c", "import torch"], env=torch_env())
    return {"wall": wall, "rss": rss}


def median(results, key):
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def spread(results, key):
    """Return "median [min, max]" of a loss over the repetitions."""
    values = sorted(r[key] for r in results)
    return f"{statistics.median(values):.4g} [{values[0]:.4g}, {values[-1]:.4g}]"


def fmt_seconds(s):
    if s is None:
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def table_rows(title, mosaic, torch):
    rows = []
    for side, results in (("MOSAIC", mosaic), ("PyTorch", torch)):
        rows.append(f"| {title} | {side} | {fmt_seconds(median(results, 'wall'))} "
                    f"| {fmt_seconds(median(results, 'step'))} | {median(results, 'rss'):.0f} MiB "
                    f"| {fmt_seconds(median(results, 'startup'))} "
                    f"| {spread(results, 'train_loss')} | {spread(results, 'test_loss')} |")
    ratios = [median(torch, "wall") / median(mosaic, "wall")]
    if median(mosaic, "step"):
        ratios.append(median(torch, "step") / median(mosaic, "step"))
    rss_ratio = median(torch, "rss") / median(mosaic, "rss")
    rows.append(f"| {title} | **PyTorch/MOSAIC** | **{ratios[0]:.1f}×** | "
                + (f"**{ratios[1]:.1f}×**" if len(ratios) > 1 else "–")
                + f" | **{rss_ratio:.1f}×** | "
                + (f"**{median(torch, 'startup') / median(mosaic, 'startup'):.0f}×**"
                   if median(mosaic, "startup") else "–")
                + " | | |")
    return rows


def main():
    global ARGS, WORK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mosaic", required=True, help="mosaic binary")
    parser.add_argument("--mosaic-job", required=True, help="mosaic-job binary")
    parser.add_argument("--repo", required=True, help="repository root, for examples/")
    parser.add_argument("--work", required=True, help="scratch folder for data, specs and results")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each case and side")
    parser.add_argument("--torch-blas", default="",
                        help="folder of a libblas.so.3 for PyTorch to load instead of the system's, such as OpenBLAS's")
    parser.add_argument("--cases", default="a,b,c,d",
                        help="comma-separated cases among a, b, c, d; c runs only where mosaic has a convolution stage")
    ARGS = parser.parse_args()
    WORK = os.path.abspath(ARGS.work)
    os.makedirs(WORK, exist_ok=True)

    rows, notes = [], []
    imports = [measure_import_torch() for _ in range(ARGS.reps)]
    import_torch = median(imports, "wall")
    for name in ARGS.cases.split(","):
        results = {"MOSAIC": [], "PyTorch": []}
        if name == "c":
            if not has_convolution():
                notes.append("Case c skipped: this build of mosaic registers no convolution stage.")
                continue
            title = CNN_TITLE
            digits = os.path.join(ARGS.repo, "examples", "data", "digits.csv")
            for rep in range(ARGS.reps):
                results["MOSAIC"].append(run_mosaic_job("c", rep, CNN_INI.format(epochs=CNN_EPOCHS, csv=digits)))
                results["PyTorch"].append(run_torch(["cnn", "--csv", digits, "--epochs", str(CNN_EPOCHS)], rep))
                print(f"bench: case c repetition {rep + 1}/{ARGS.reps} done", file=sys.stderr)
        elif name == "d":
            title = "(d) iris study, 20 runs, 2 processes"
            for rep in range(ARGS.reps):
                results["MOSAIC"].append(run_mosaic_iris(rep))
                results["PyTorch"].append(run_torch_iris(rep))
                print(f"bench: case d repetition {rep + 1}/{ARGS.reps} done", file=sys.stderr)
        else:
            case = CASES[name]
            title = case["title"]
            csv_path = os.path.join(WORK, f"case-{name}.csv")
            if not os.path.exists(csv_path):
                generate_data(csv_path, case["inputs"], seed=42)
            for rep in range(ARGS.reps):
                results["MOSAIC"].append(run_mosaic_case(name, case, rep, csv_path))
                results["PyTorch"].append(run_torch_case(case, rep, csv_path))
                print(f"bench: case {name} repetition {rep + 1}/{ARGS.reps} done", file=sys.stderr)
        rows += table_rows(title, results["MOSAIC"], results["PyTorch"])
        startups = [r["startup"] for r in results["MOSAIC"] if r.get("startup") is not None]
        if startups:
            startup = statistics.median(startups)
            notes.append(f"Case {name}: `mosaic-job` start-up to its first epoch {fmt_seconds(startup)}, "
                         f"{import_torch / startup:.0f}× less than `import torch`.")

    print("| case | engine | wall (median) | per step | peak RSS | start-up | final train loss | final test loss |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print()
    print(f"`python3 -c 'import torch'`: median {fmt_seconds(import_torch)}, "
          f"peak RSS {median(imports, 'rss'):.0f} MiB, over {ARGS.reps} runs.")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
