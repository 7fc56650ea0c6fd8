from collections.abc import Callable

import pytest

from tests.gitops.flux_render import ClusterRender, render_cluster
from tests.template.once import made_once_value, session_folder


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ClusterRender]:
    """Each environment's cluster as Flux renders it (render_cluster), made once a session: a render runs
    the in-cluster stack under mocks and kustomize, seconds each, and every pytest-xdist worker would make
    it again; the others read the first one's back."""
    folder = session_folder(tmp_path_factory) / "cluster-renders"

    def render(environment: str) -> ClusterRender:
        return made_once_value(folder / environment, lambda: render_cluster(environment))

    return render
