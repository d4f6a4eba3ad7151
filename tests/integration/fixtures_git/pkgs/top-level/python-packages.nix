# The Python package set, instantiated in all-packages.nix as `pyPackages`: its own fixed point, with
# `callPackage` taking arguments from it before the top-level set.
{ pkgs, stdenv, lib, python }:

let
  packages = self:
    let
      callPackage = lib.callPackageWith (pkgs // self);

      buildPythonPackage = { pname, version, propagatedBuildInputs ? [ ], ... }@args:
        stdenv.mkDerivation (removeAttrs args [ "pname" "version" ] // {
          name = "python3.7-${pname}-${version}";
          buildInputs = [ python ] ++ propagatedBuildInputs;
        });
    in
    with self; {

  inherit python buildPythonPackage;

  attrs = buildPythonPackage {
    pname = "attrs";
    version = "18.2.0";
    meta.description = "Python attributes without boilerplate";
  };

  certifi = buildPythonPackage {
    pname = "certifi";
    version = "2018.11.29";
    meta.description = "Python package for providing Mozilla's CA Bundle";
  };

  chardet = buildPythonPackage {
    pname = "chardet";
    version = "3.0.4";
    meta.description = "Universal encoding detector";
  };

  click = buildPythonPackage {
    pname = "click";
    version = "7.0";
    meta.description = "Create beautiful command line interfaces in Python";
  };

  docutils = buildPythonPackage {
    pname = "docutils";
    version = "0.14";
    meta.description = "Python Documentation Utilities";
  };

  flask = callPackage ../development/python-modules/flask { };

  idna = buildPythonPackage {
    pname = "idna";
    version = "2.8";
    meta.description = "Internationalized Domain Names in Applications (IDNA)";
  };

  itsdangerous = buildPythonPackage {
    pname = "itsdangerous";
    version = "1.1.0";
    meta.description = "Helpers to pass trusted data to untrusted environments";
  };

  jinja2 = buildPythonPackage {
    pname = "Jinja2";
    version = "2.10";
    propagatedBuildInputs = [ markupsafe ];
    meta.description = "Stand-alone template engine";
  };

  markupsafe = buildPythonPackage {
    pname = "MarkupSafe";
    version = "1.1.0";
    meta.description = "Implements a XML/HTML/XHTML Markup safe string";
  };

  numpy = callPackage ../development/python-modules/numpy { };

  pluggy = buildPythonPackage {
    pname = "pluggy";
    version = "0.8.1";
    meta.description = "Plugin and hook calling mechanisms for Python";
  };

  py = buildPythonPackage {
    pname = "py";
    version = "1.7.0";
    meta.description = "Library with cross-python path, ini-parsing, io, code, log facilities";
  };

  pytest = callPackage ../development/python-modules/pytest { };

  pyyaml = buildPythonPackage {
    pname = "PyYAML";
    version = "3.13";
    meta.description = "The next generation YAML parser and emitter for Python";
  };

  requests = callPackage ../development/python-modules/requests { };

  setuptools = buildPythonPackage {
    pname = "setuptools";
    version = "40.6.3";
    meta.description = "Utilities to facilitate the installation of Python packages";
  };

  six = buildPythonPackage {
    pname = "six";
    version = "1.12.0";
    meta.description = "A Python 2 and 3 compatibility library";
  };

  toml = buildPythonPackage {
    pname = "toml";
    version = "0.10.0";
    meta.description = "A Python library for parsing and creating TOML";
  };

  urllib3 = buildPythonPackage {
    pname = "urllib3";
    version = "1.24.1";
    meta.description = "Powerful, sanity-friendly HTTP client for Python";
  };

  werkzeug = buildPythonPackage {
    pname = "Werkzeug";
    version = "0.14.1";
    meta.description = "A WSGI utility library for Python";
  };
};
in
lib.fix packages
