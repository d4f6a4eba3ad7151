{ buildPythonPackage, pytest, setuptools }:

buildPythonPackage {
  pname = "numpy";
  version = "1.16.1";
  nativeBuildInputs = [ setuptools ];
  checkInputs = [ pytest ];
  meta.description = "Scientific tools for Python";
}
