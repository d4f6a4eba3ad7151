{ stdenv, lib, gawk, withX ? false }:

stdenv.mkDerivation {
  name = "foo-1.4";
  buildInputs = [ gawk ];
  configureFlags = [ "--prefix=/" ] ++ lib.optional withX "--with-x";
  meta.description = "A tool that fooWithX builds with X";
}
