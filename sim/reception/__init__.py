"""The reception part of the chain (opvang): locations, COA's placement policy and its emergency rules.

- :mod:`sim.reception.locations`: the table of locations (azc, temporary, emergency/noodopvang, AMV) and
  their places;
- :mod:`sim.reception.placement`: who waits for a place, who gets which place, moves when a location closes
  or when emergency residents move up (plaatsing);
- :mod:`sim.reception.emergency`: COA's search for emergency locations (noodopvang), their leases and
  their closing;
- :mod:`sim.reception.requests`: the ministry's requests for crisis or emergency places.
"""

from sim.reception.locations import (
    ADULT_ORDER,
    AMV_PLACES,
    CRISIS_PLACES,
    DURABLE,
    EMERGENCY,
    N_TYPES,
    NEVER,
    REGULAR,
    TEMPORARY,
    TYPE_CODE,
    TYPE_NAMES,
    Locations,
    read_municipalities,
)

__all__ = [
    "ADULT_ORDER",
    "AMV_PLACES",
    "CRISIS_PLACES",
    "DURABLE",
    "EMERGENCY",
    "N_TYPES",
    "NEVER",
    "REGULAR",
    "TEMPORARY",
    "TYPE_CODE",
    "TYPE_NAMES",
    "Locations",
    "read_municipalities",
]
