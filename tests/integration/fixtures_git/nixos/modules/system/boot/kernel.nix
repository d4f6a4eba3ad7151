{ config, pkgs, ... }:

{
  boot.kernelParams = [ "console=ttyS0" ];
}
