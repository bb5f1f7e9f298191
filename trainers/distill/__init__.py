"""Knowledge distillation on digits: a small student learns from a pushed CNN teacher."""
