import ./make-test.nix ({ pkgs, ... }: {
  name = "firewall";

  machine = { pkgs, ... }: {
    boot.kernelParams = [ "nf_conntrack.hashsize=4096" ];
  };

  testScript = ''
    machine.wait_for_unit("firewall")
  '';
})
