// Command stub answers the local cluster's "outside" test addresses (the
// cloud metadata addresses and an external documentation address) from a
// network namespace on this machine, so that no probe packet leaves it.
// Every TCP connection gets one line naming the stub and the address it was
// reached on; every UDP datagram gets the same line back.
//
//	stub -listen tcp:80,tcp:443,udp:53
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"strings"
)

func main() {
	listen := flag.String("listen", "tcp:80,tcp:443,udp:53", "comma-separated proto:port list")
	flag.Parse()
	for _, l := range strings.Split(*listen, ",") {
		proto, port, ok := strings.Cut(l, ":")
		if !ok {
			log.Fatalf("bad -listen entry %q", l)
		}
		switch proto {
		case "tcp":
			ln, err := net.Listen("tcp4", ":"+port)
			if err != nil {
				log.Fatal(err)
			}
			go serveTCP(ln)
		case "udp":
			pc, err := net.ListenPacket("udp4", ":"+port)
			if err != nil {
				log.Fatal(err)
			}
			go serveUDP(pc)
		default:
			log.Fatalf("bad protocol %q", proto)
		}
	}
	log.Printf("stub serving %s", *listen)
	select {}
}

func serveTCP(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Print(err)
			continue
		}
		host, _, _ := net.SplitHostPort(c.LocalAddr().String())
		fmt.Fprintf(c, "netverify-stub/%s\n", host)
		c.Close()
	}
}

func serveUDP(pc net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		_, addr, err := pc.ReadFrom(buf)
		if err != nil {
			log.Print(err)
			continue
		}
		// the reply names the stub; the local address is not known per datagram here
		pc.WriteTo([]byte("netverify-stub\n"), addr)
	}
}
