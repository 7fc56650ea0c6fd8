import pickle
from collections.abc import Callable

import pytest

from tests.gitops.flux_render import ClusterRender, render_cluster
from tests.template.once import made_once, session_folder

RENDER = "render.pickle"


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ClusterRender]:
    """Each environment's cluster as Flux renders it (render_cluster), made once a session: a render runs
    the in-cluster stack under mocks and kustomize, seconds each, and every pytest-xdist worker would make
    it again; the others read the first one's back."""
    folder = session_folder(tmp_path_factory) / "cluster-renders"

    def render(environment: str) -> ClusterRender:
        made = made_once(
            folder / environment,
            lambda target: (target / RENDER).write_bytes(pickle.dumps(render_cluster(environment))),
        )
        return pickle.loads((made / RENDER).read_bytes())

    return render
