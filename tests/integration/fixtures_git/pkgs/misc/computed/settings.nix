{
  version = "1.0";
  configureFlags = [ "--enable-feature" ];
}
