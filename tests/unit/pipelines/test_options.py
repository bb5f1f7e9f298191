from pipelines.options import split_overrides


def test_split_overrides_routes_the_optimize_prefix():
    trainer, optimizer = split_overrides(
        {"units": "8", "optimize.target_sparsity": "0.7", "optimize.prune_steps": "5"}
    )
    assert trainer == {"units": "8"}
    assert optimizer == {"target_sparsity": "0.7", "prune_steps": "5"}
