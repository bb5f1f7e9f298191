"""Transfer learning on digits: a pushed CNN backbone (or VGG16), a new head, two phases."""
