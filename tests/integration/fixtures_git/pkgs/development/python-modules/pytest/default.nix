{ buildPythonPackage, attrs, pluggy, py, setuptools, six }:

buildPythonPackage {
  pname = "pytest";
  version = "4.2.1";
  propagatedBuildInputs = [ attrs pluggy py setuptools six ];
  meta.description = "Framework for writing tests";
}
