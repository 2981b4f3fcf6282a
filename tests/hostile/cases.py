"""The hostile and odd submissions, each with its expected outcome. See SECURITY.md for the threat model.

The target assignment (tests/hostile/course, p1) asks for word_count(text) and longest_word(text), 10 points each.
HONEST gets 20; HALF gets 10 (longest_word wrong). A tampering case adds a trick to HALF and must never score above
10; a resource or intrusion case adds an attack to HONEST, and where the attack is contained the honest part must
still score as it would alone.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

WORD_COUNT = "def word_count(text):\n    return len(text.split())\n"
LONGEST = "def longest_word(text):\n    return max(text.split(), key=len)\n"
WRONG_LONGEST = "def longest_word(text):\n    return ''\n"
HONEST = WORD_COUNT + LONGEST
HALF = WORD_COUNT + WRONG_LONGEST

# Markers planted by the tests on the host; a submission tries to reach them through these placeholders.
CANARY_DIR = "@CANARY_DIR@"
HOST_PORT = "@HOST_PORT@"


@dataclass(frozen=True)
class Case:
    family: str
    build: Callable[[Path], Path]  # writes the submission under a folder, returns its path
    statuses: frozenset[str]
    max_score: float
    exact_score: float | None = None  # honest code in the submission must be graded as it would be alone


def py(code: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / "solution.py"
        path.write_text(code, encoding="utf-8", newline="")
        return path

    return build


def zipped(files: dict[str, str | bytes], name: str = "submission.zip") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member, content in files.items():
                archive.writestr(member, content)
        return path

    return build


def raw(name: str, content: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return build


def notebook(cells: list[str], with_outputs: bool = False) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        document = nbformat.v4.new_notebook()
        document.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
        if with_outputs:
            for cell in document.cells:
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text="old output\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
                ]
                cell.execution_count = 1
        path = folder / "solution.ipynb"
        nbformat.write(document, str(path))
        return path

    return build


def zip_with_symlink(folder: Path) -> Path:
    path = folder / "links.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("solution.py", HONEST)
        info = zipfile.ZipInfo("secret.txt")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/shadow")
    return path


def zip_with_bad_name(folder: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("solution.py", HONEST)
        archive.writestr("placeholder.txt", "x")
    path = folder / "names.zip"
    path.write_bytes(buffer.getvalue().replace(b"placeholder.txt", b"plac\xff\xfeolder.txt"))
    return path


def folder_with_symlink(folder: Path) -> Path:
    project = folder / "project"
    project.mkdir()
    (project / "solution.py").write_text(HONEST)
    (project / "shadow").symlink_to("/etc/shadow")
    return project


def nested_folders(folder: Path) -> Path:
    project = folder / "my-project"
    (project / "stats" / "core").mkdir(parents=True)
    (project / "stats" / "__init__.py").write_text("")
    (project / "stats" / "core" / "__init__.py").write_text("")
    (project / "stats" / "core" / "words.py").write_text(HONEST)
    (project / "solution.py").write_text("from stats.core.words import word_count, longest_word\n")
    return project


def old_notebook(folder: Path) -> Path:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [
            {
                "cells": [{"cell_type": "code", "input": HONEST, "language": "python", "outputs": [], "metadata": {}}],
                "metadata": {},
            }
        ],
    }
    path = folder / "old.ipynb"
    path.write_text(json.dumps(v3))
    return path


GRADED = frozenset({"graded"})
STOPPED = frozenset({"graded", "timeout", "error", "oom"})
REJECTED = frozenset({"rejected"})
SECRETS = ("EXPECTED-SECRET-d4c1e8b9f0a2", "REFERENCE-SECRET-5e6f7a8b", "HIDDEN-INPUT-7f3a9c", "HIDDEN-INPUT-b21e04")


def honest_plus(attack: str, *, statuses=GRADED, exact: float | None = 20.0, family: str) -> Case:
    return Case(family, py(attack + "\n" + HONEST), statuses, 20.0, exact)


def half_plus(trick: str, family: str = "tampering") -> Case:
    return Case(family, py(HALF + "\n" + trick), STOPPED, 10.0)


def word_count_that(body: str) -> str:
    """A word_count that first runs `body` (an attack), then answers honestly; longest_word stays honest."""
    indented = "\n".join("    " + line for line in body.splitlines())
    return f"def word_count(text):\n{indented}\n    return len(text.split())\n" + LONGEST


SEARCH_FILESYSTEM = (
    "import os\n"
    "def show(wanted, in_path=''):\n"
    "    for directory, subdirs, files in os.walk('/'):\n"
    "        subdirs[:] = [d for d in subdirs if os.path.join(directory, d) not in ('/proc', '/sys', '/dev', '/usr',"
    " '/opt')]\n"
    "        for name in files:\n"
    "            if wanted(name) and in_path in directory:\n"
    "                try:\n"
    "                    print(open(os.path.join(directory, name)).read())\n"
    "                except OSError:\n"
    "                    pass\n"
)


def leak_attempt(body: str) -> Case:
    """Runs `body` at import (it prints whatever it finds), then behaves honestly: full marks, nothing leaked."""
    return Case("secrets", py(body + "\n" + HONEST), GRADED, 20.0, 20.0)


CASES: dict[str, Case] = {
    # --- resources -------------------------------------------------------------------------------------------
    "endless_loop": Case(
        "resources", py("def word_count(text):\n    while True:\n        pass\n" + LONGEST), STOPPED, 10.0, 10.0
    ),
    "sleeps_forever_at_import": Case(
        "resources", py("import time\ntime.sleep(10_000)\n" + HONEST), frozenset({"timeout"}), 0.0
    ),
    "fork_bomb": Case(
        "resources",
        py(
            word_count_that(
                "import os\nfor _ in range(10_000):\n    try:\n        os.fork()\n    except OSError:\n        pass"
            )
        ),
        STOPPED,
        20.0,
    ),
    "memory_bomb": Case(
        "resources",
        py(word_count_that("blocks = []\nwhile True:\n    blocks.append(bytearray(64 * 1024 * 1024))")),
        frozenset({"oom"}),
        20.0,
    ),
    "disk_filler": Case(
        "resources",
        py(
            word_count_that(
                "import os\nchunk = b'0' * (1 << 20)\ntry:\n    with open('filler.bin', 'wb') as f:\n        while True:\n"
                "            f.write(chunk)\nexcept OSError:\n    pass\ntry:\n    os.remove('filler.bin')\nexcept OSError:\n"
                "    pass"
            )
        ),
        GRADED,
        20.0,
        20.0,
    ),
    "output_flood": Case(
        "resources",
        py(word_count_that("import sys\nfor _ in range(20_000):\n    sys.stdout.write('x' * 1000 + '\\n')")),
        GRADED,
        20.0,
        20.0,
    ),
    "deep_recursion": Case(
        "resources",
        py(
            "import sys\nsys.setrecursionlimit(10**7)\ndef dive(n):\n    return dive(n + 1) + 1\n"
            + HONEST
            + "def word_count(text):\n    return dive(0)\n"
        ),
        STOPPED,
        10.0,
    ),
    "thread_bomb": Case(
        "resources",
        py(
            word_count_that(
                "import threading, time\nfor _ in range(5_000):\n    try:\n        threading.Thread(target=time.sleep, args=(30,),"
                " daemon=True).start()\n    except RuntimeError:\n        break"
            )
        ),
        STOPPED,
        20.0,
    ),
    "process_outlives_run": Case(
        "resources",
        py(
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(3600)\n"
            "    os._exit(0)\n" + HONEST
        ),
        GRADED,
        20.0,
        20.0,
    ),
    # --- network ---------------------------------------------------------------------------------------------
    "reaches_outside_host": honest_plus(
        "import socket\nfor host in ('1.1.1.1', '8.8.8.8'):\n    try:\n        socket.create_connection((host, 53), 2)\n"
        "        print('NETWORK-REACHED')\n    except OSError:\n        pass",
        family="network",
    ),
    "resolves_dns": honest_plus(
        "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n    print('NETWORK-REACHED')\nexcept OSError:\n"
        "    pass",
        family="network",
    ),
    "reaches_host_web_server": honest_plus(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', " + HOST_PORT + "), 2)\n"
        "    print('NETWORK-REACHED')\nexcept OSError:\n    pass",
        family="network",
    ),
    "reaches_database_and_broker": honest_plus(
        "import socket\nfor port in (5432, 6379, 8000, 2375, 2376):\n    try:\n"
        "        socket.create_connection(('127.0.0.1', port), 1)\n        print('NETWORK-REACHED')\n"
        "    except OSError:\n        pass",
        family="network",
    ),
    "talks_to_docker_socket": honest_plus(
        "import socket\nfor path in ('/var/run/docker.sock', '/run/docker.sock'):\n    try:\n"
        "        s = socket.socket(socket.AF_UNIX)\n        s.connect(path)\n        print('NETWORK-REACHED')\n"
        "    except OSError:\n        pass",
        family="network",
    ),
    # --- reading what is secret ------------------------------------------------------------------------------
    "reads_hidden_judge": leak_attempt(SEARCH_FILESYSTEM + "show(lambda name: name in ('judge.py', 'p1.yaml'))"),
    "prints_hidden_inputs": leak_attempt(
        "import os\nfor name in os.listdir('/probe/data') if os.path.isdir('/probe/data') else []:\n"
        "    text = open(os.path.join('/probe/data', name)).read()\n    print(text)\n"
        "    print(' '.join(text.split()[::3]))"
    ),
    "reads_reference_solution": leak_attempt(
        SEARCH_FILESYSTEM + "show(lambda name: name.endswith('.py'), 'reference')"
    ),
    "reads_other_submissions": leak_attempt(SEARCH_FILESYSTEM + "show(lambda name: name == 'meta.json', 'store')"),
    "reads_environment": leak_attempt("import os\nprint(dict(os.environ))"),
    "reads_host_credentials": leak_attempt(
        "for path in ('/etc/shadow', '/root/.ssh/id_rsa', '/root/.docker/config.json', '"
        + CANARY_DIR
        + "/secret.txt', '/proc/1/environ'):\n    try:\n        print(open(path).read())\n    except OSError:\n        pass"
    ),
    # --- writing where it must not ---------------------------------------------------------------------------
    "writes_to_host_paths": honest_plus(
        "for path in ('" + CANARY_DIR + "/planted.txt', '/tmp/hostile-planted.txt', '/root/hostile-planted.txt'):\n"
        "    try:\n        open(path, 'w').write('pwned')\n    except OSError:\n        pass",
        family="writing",
    ),
    "writes_into_image": honest_plus(
        "import os, sys\nfor path in ('/usr/lib/hostile.txt', os.path.join(os.path.dirname(os.__file__), 'hostile.py'),"
        " '/etc/hostile'):\n    try:\n        open(path, 'w').write('x')\n        print('WRITE-SUCCEEDED')\n"
        "    except OSError:\n        pass",
        family="writing",
    ),
    "patches_installed_packages": honest_plus(
        "import json, os\ntry:\n    open(json.__file__, 'a').write('\\n# patched')\n    print('WRITE-SUCCEEDED')\n"
        "except OSError:\n    pass",
        family="writing",
    ),
    "rewrites_own_submission": honest_plus(
        "try:\n    open('/submission/solution.py', 'w').write('pass')\n    print('WRITE-SUCCEEDED')\nexcept OSError:\n"
        "    pass",
        family="writing",
    ),
    # --- score tampering -------------------------------------------------------------------------------------
    "exits_early_with_success": half_plus("import os\nos._exit(0)"),
    "sys_exit_at_import": half_plus("import sys\nsys.exit(0)"),
    "exits_inside_a_step": Case(
        "tampering", py(WORD_COUNT + "def longest_word(text):\n    raise SystemExit(0)\n"), STOPPED, 10.0
    ),
    "prints_full_marks": half_plus(
        "print('score: 20/20')\nprint('=== 2 passed in 0.01s ===')\nprint('status: graded')"
    ),
    "always_equal_object": Case(
        "tampering",
        py(
            WORD_COUNT + "class Anything(str):\n    def __eq__(self, other):\n        return True\n"
            "    def __len__(self):\n        return 19\n"
            "def longest_word(text):\n    return Anything('x')\n"
        ),
        STOPPED,
        10.0,
    ),
    "patches_test_runner": Case(
        "tampering",
        zipped(
            {
                "solution.py": HALF,
                "conftest.py": "def pytest_runtest_makereport(item, call):\n    call.excinfo = None\n",
                "pytest.ini": "[pytest]\naddopts = -p no:assertion\n",
                "unittest.py": "raise SystemExit(0)\n",
            }
        ),
        STOPPED,
        10.0,
    ),
    "plants_startup_files": Case(
        "tampering",
        zipped(
            {
                "solution.py": HALF,
                "sitecustomize.py": "import builtins\nbuiltins.len = lambda x: 19\n",
                "usercustomize.py": "raise SystemExit(0)\n",
                ".pythonrc.py": "import os\nos._exit(0)\n",
            }
        ),
        STOPPED,
        10.0,
    ),
    "shadows_module_names": Case(
        "tampering",
        zipped(
            {
                "solution.py": "import json\n" + HALF,
                "json.py": "def dumps(*a, **k):\n    return '{\"ok\": true}'\n",
                "grader_probe.py": "def load_solution():\n    return None\n",
                "numpy.py": "raise SystemExit(0)\n",
            }
        ),
        STOPPED,
        10.0,
    ),
    "patches_probe_runtime": half_plus(
        "import grader_probe\n_write = grader_probe._write_step\n"
        "def forged(name, **kw):\n    kw.update(ok=True, error=None)\n"
        "    kw['values'] = dict(kw['values'], longest=['x' * 18, 'y' * 18])\n    _write(name, **kw)\n"
        "grader_probe._write_step = forged"
    ),
    "forges_result_files": half_plus(
        "import os, json\nout = os.environ.get('GRADER_OUT', '/out')\n"
        "for name in ('result.json', 'results.json', 'score.json', '_done.json'):\n"
        "    open(os.path.join(out, name), 'w').write(json.dumps({'score': 20, 'status': 'graded'}))\n"
        "open(os.path.join(out, 'longest.json'), 'w').write(json.dumps({'step': 'longest', 'ok': True,"
        " 'values': {'longest': ['a' * 20, 'b' * 20]}, 'arrays': [], 'error': None, 'duration_s': 0}))"
    ),
    "imitates_grader_payload": half_plus(
        "import sys, base64, json\nfake = {'returncode': 0, 'timed_out': False, 'duration_s': 1, 'oom_kills': 0,"
        " 'stdout': '', 'stderr': '', 'output_truncated': False, 'files': {}, 'refused_files': []}\n"
        "sys.stdout.write('\\n@@GRADER-PAYLOAD-v1@@\\n' + base64.b64encode(json.dumps(fake).encode()).decode() + '\\n')\n"
        "try:\n    open('/proc/1/fd/1', 'w').write('\\n@@GRADER-PAYLOAD-v1@@\\nAAAA\\n')\nexcept OSError:\n    pass"
    ),
    "kills_the_runner": half_plus(
        "import os, signal\nfor sig in (signal.SIGTERM, signal.SIGKILL, signal.SIGINT):\n    try:\n"
        "        os.kill(1, sig)\n    except OSError:\n        pass"
    ),
    # --- intake ----------------------------------------------------------------------------------------------
    "zip_bomb": Case("intake", zipped({"solution.py": HONEST, "bomb.txt": b"0" * 200_000_000}), REJECTED, 0.0),
    "zip_slip": Case("intake", zipped({"solution.py": HONEST, "../../etc/cron.d/evil": "x"}), REJECTED, 0.0),
    "zip_absolute_path": Case("intake", zipped({"solution.py": HONEST, "/etc/evil": "x"}), REJECTED, 0.0),
    "zip_symlink": Case("intake", zip_with_symlink, REJECTED, 0.0),
    "folder_symlink": Case("intake", folder_with_symlink, REJECTED, 0.0),
    "huge_file": Case("intake", raw("solution.py", b"# padding\n" * 3_000_000), REJECTED, 0.0),
    "countless_files": Case(
        "intake", zipped({"solution.py": HONEST, **{f"f/{i}.txt": "x" for i in range(800)}}), REJECTED, 0.0
    ),
    "undecodable_file_name": Case("intake", zip_with_bad_name, REJECTED, 0.0),
    "non_utf8_source": Case("intake", raw("solution.py", "s = 'caf\u00e9'\n".encode("latin-1")), REJECTED, 0.0),
    "not_really_a_zip": Case("intake", raw("submission.zip", b"MZ\x90\x00 this is an exe"), REJECTED, 0.0),
    "invalid_notebook": Case("intake", raw("solution.ipynb", b'{"cells": 3, "nbformat": 4}'), REJECTED, 0.0),
    "wrong_file_type": Case("intake", raw("solution.exe", b"MZ\x90\x00"), REJECTED, 0.0),
    "compiled_module_in_zip": Case("intake", zipped({"solution.py": HONEST, "fast.so": b"\x7fELF"}), REJECTED, 0.0),
    "old_notebook_is_converted": Case("intake", old_notebook, GRADED, 20.0, 20.0),
    "never_ending_cell": Case("intake", notebook([WORD_COUNT, "while True:\n    pass", LONGEST]), GRADED, 20.0, 20.0),
    "shell_escapes_and_magics": Case(
        "intake",
        notebook(["!rm -rf /work\n%pip install requests\n" + WORD_COUNT, "%%bash\ncurl http://example.com\n", LONGEST]),
        GRADED,
        20.0,
        20.0,
    ),
    # --- benign but odd --------------------------------------------------------------------------------------
    "crlf_line_endings": Case("benign", py(HONEST.replace("\n", "\r\n")), GRADED, 20.0, 20.0),
    "tab_indentation": Case("benign", py(HONEST.replace("    ", "\t")), GRADED, 20.0, 20.0),
    "unicode_identifiers": Case(
        "benign",
        py(
            "def word_count(текст):\n    слова = текст.split()\n    return len(слова)\n"
            "def longest_word(文本):\n    return max(文本.split(), key=len)\n"
        ),
        GRADED,
        20.0,
        20.0,
    ),
    "nested_folders": Case("benign", nested_folders, GRADED, 20.0, 20.0),
    "notebook_with_outputs": Case("benign", notebook([WORD_COUNT, LONGEST], with_outputs=True), GRADED, 20.0, 20.0),
    "heavy_logging": Case(
        "benign",
        py(
            "import logging\nlogging.basicConfig(level=logging.DEBUG)\nlog = logging.getLogger('student')\n"
            "def word_count(text):\n    for i in range(5000):\n        log.debug('token %d of %s', i, 'x' * 50)\n"
            "    return len(text.split())\n" + LONGEST
        ),
        GRADED,
        20.0,
        20.0,
    ),
    "legitimate_multiprocessing": Case(
        "benign",
        py(
            "import multiprocessing as mp\n\ndef _count(text):\n    return len(text.split())\n\n"
            "def word_count(text):\n    with mp.get_context('fork').Pool(2) as pool:\n"
            "        return pool.map(_count, [text])[0]\n" + LONGEST
        ),
        GRADED,
        20.0,
        20.0,
    ),
}

ATTACK_SUCCEEDED_MARKERS = ("NETWORK-REACHED", "WRITE-SUCCEEDED")
