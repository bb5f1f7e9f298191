"""Generated product reviews: a Functional model with text + numeric in, class + value out."""
