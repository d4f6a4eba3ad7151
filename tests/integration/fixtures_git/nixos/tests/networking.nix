import ./make-test.nix ({ pkgs, ... }: {
  name = "networking";

  machine = { pkgs, ... }: {
    boot.kernelParams = [ "ip=dhcp" ];
  };

  testScript = ''
    machine.wait_for_unit("network-online.target")
  '';
})
