{ config, pkgs, ... }:

{
  services.nginx.enable = false;

  environment.etc."nginx/nginx.conf" =
    if config.services.nginx.enable then "worker_processes 1; events { worker_connections 64; }" else "";
}
