import pytest

from pipelines.home import Home


@pytest.fixture
def home(tmp_path):
    """An empty kfx home under the test's temporary folder."""
    return Home(tmp_path / "home")
