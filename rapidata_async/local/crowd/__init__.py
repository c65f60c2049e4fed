"""The crowd seam: a task board of open work and the sources that answer it (the simulated
crowd here; people on a labeling page later), paced by a clock."""
