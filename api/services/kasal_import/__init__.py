"""Import Kasal's crews and flows (its exported JSON) as definitions of ours.

``shapes`` reads the request, ``crews`` and ``flows`` translate (pure functions from
Kasal's JSON to our definitions plus warnings), and ``service`` stores the result in one
unit of work: all of it, or nothing.
"""
