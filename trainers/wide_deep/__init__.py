"""Car fuel economy (vega_datasets cars): Functional wide & deep regression, auxiliary output."""
