"""Parameters of the Spreidingswet capacity cycle (filled in by the cycle issue)."""

from __future__ import annotations

from sim.params import Strict, param


class Spreidingswet(Strict):
    """The Spreidingswet cycle (Wet gemeentelijke taak mogelijk maken asielopvangvoorzieningen)."""

    enabled: bool = param(False, unit="-", desc="run the capacity cycle", source="facts §1")
