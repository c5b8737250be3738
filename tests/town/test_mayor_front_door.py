"""The Mayor is the front door: its prime teaches "file it and sling it" with the town's rigs, and the
commands it uses (`bd create --rig`, `gt convoy create --id`) work from its own folder."""
from __future__ import annotations

import json

from town_testkit import gastown


def test_the_mayors_prime_teaches_file_it_and_sling_it_with_this_towns_rigs(town, rig):
    text = gastown("prime", cwd=town.root / "mayor").stdout
    assert text.startswith("# You are mayor/ — the mayor")
    for taught in ("bd create", "--rig RIG", "gt convoy create", "gt sling ID RIG"):
        assert taught in text, taught
    assert "Rigs in this town: calc (beads" in text


def test_the_mayor_files_tracks_and_slings_from_its_own_folder(town, rig):
    mayor = town.root / "mayor"
    env = {"GT_AGENT": "mayor/", "BD_ACTOR": "mayor/"}
    made = json.loads(gastown("bd", "create", "Add modulo", "--rig", "calc", "--json", cwd=mayor, env=env).stdout)
    assert made["id"].startswith(rig.prefix + "-") and made["created_by"] == "mayor/"
    out = gastown("convoy", "create", "Calc work", made["id"], "--id", "hq-cv-abcde", "--json", cwd=mayor,
                  env=env).stdout
    assert json.loads(out)["id"] == "hq-cv-abcde"
    status = json.loads(gastown("convoy", "status", "hq-cv-abcde", "--json", cwd=mayor).stdout)
    assert [t["bead_id"] for t in status["tracked"]] == [made["id"]]
    wrong = gastown("bd", "list", "--rig", "nope", cwd=mayor, check=False)
    assert wrong.returncode == 1 and "nope" in wrong.stderr and "calc" in wrong.stderr
