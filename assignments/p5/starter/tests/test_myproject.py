from pathlib import Path

from myproject.__main__ import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "input.txt"


def test_entry_command_runs_on_the_example(capsys):
    main([str(EXAMPLE)])
    assert capsys.readouterr().out.strip()
