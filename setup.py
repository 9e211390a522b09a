"""Build the Cython kernels; all metadata lives in pyproject.toml.

The extension is optional for users (a pure-Python twin is used when it cannot be
built), but ``EWACCOUNT_STRICT_BUILD=1`` makes a failed compile fail the install, as CI
requires.
"""
import os

from setuptools import Extension, setup

STRICT = os.environ.get("EWACCOUNT_STRICT_BUILD") == "1"


def extensions():
    try:
        from Cython.Build import cythonize
    except ImportError:
        if STRICT:
            raise
        return []
    ext = Extension(
        "ewaccount._kernels._core",
        ["ewaccount/_kernels/_core.pyx"],
        extra_compile_args=["-O3"],
        libraries=["m"],
    )
    pld = Extension(
        "ewaccount._kernels._pld",
        ["ewaccount/_kernels/_pld.pyx"],
        extra_compile_args=["-O3"],
        libraries=["m"],
    )
    built = cythonize(
        [ext, pld],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "nonecheck": False,
        },
    )
    for e in built:  # cythonize() drops Extension(optional=...); set it on what it returns
        e.optional = not STRICT
    return built


setup(ext_modules=extensions())
