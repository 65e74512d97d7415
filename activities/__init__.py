"""Activities: the parts of a run that talk to the world (CrewAI, LLMs, tools)."""

from kasal.environment import quiet_crewai

# Before anything below imports CrewAI or litellm.
quiet_crewai()
