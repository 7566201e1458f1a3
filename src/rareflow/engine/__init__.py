"""The simulation engine: a vectorised monthly stepper, its reference twin and mass balance."""
