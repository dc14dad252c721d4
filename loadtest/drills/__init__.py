"""Drills: real processes killed, hosts failed over, receivers stopped — nothing lost."""
