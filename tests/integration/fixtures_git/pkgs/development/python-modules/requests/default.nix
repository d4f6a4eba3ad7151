{ buildPythonPackage, certifi, chardet, idna, urllib3 }:

buildPythonPackage {
  pname = "requests";
  version = "2.21.0";
  propagatedBuildInputs = [ certifi chardet idna urllib3 ];
  meta.description = "An Apache2 licensed HTTP library, written in Python, for human beings";
}
