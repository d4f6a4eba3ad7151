# The system: its packages and /etc, as one derivation (system.build.toplevel).
{ config, pkgs, ... }:

{
  environment.systemPackages = [ pkgs.bash pkgs.gnused ];
  environment.etc = { };

  system.build.toplevel = pkgs.stdenv.mkDerivation {
    name = "nixos-system-machine-${config.system.nixos.version}";
    packages = config.environment.systemPackages;
    etc = builtins.toJSON config.environment.etc;
    kernel = config.boot.kernelParams;
  };
}
