package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"time"
)

func runTCPEcho(args []string) error {
	fs := flag.NewFlagSet("tcp-echo", flag.ExitOnError)
	listen := fs.String("listen", ":7000", "address to listen on")
	banner := fs.String("banner", "", "line the server sends first, before reading (a server-first protocol, like SMTP or MySQL)")
	_ = fs.Parse(args)

	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	for {
		c, err := lis.Accept()
		if err != nil {
			return fmt.Errorf("accepting: %w", err)
		}
		go func() {
			defer c.Close()
			if *banner != "" {
				if _, err := io.WriteString(c, *banner+"\n"); err != nil {
					return
				}
			}
			_, _ = io.Copy(c, c)
		}()
	}
}

// runTCPCall writes -msg and prints what came back: len(msg) bytes, or
// everything until EOF after half-closing (-half-close); the banner line
// first, with -banner.
func runTCPCall(args []string) error {
	fs := flag.NewFlagSet("tcp-call", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	msg := fs.String("msg", "hello", "bytes to send")
	banner := fs.Bool("banner", false, "read the server's first line before sending")
	timeBanner := fs.Bool("time-banner", false, "with -banner, print first how many milliseconds the banner took from the connect, on a line of its own")
	halfClose := fs.Bool("half-close", false, "half-close after sending and read until EOF, instead of reading len(msg) bytes back")
	_ = fs.Parse(args)

	c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", *addr, err)
	}
	connected := time.Now()
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if *banner {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the banner: %w", err)
		}
		if *timeBanner {
			fmt.Println(time.Since(connected).Milliseconds())
		}
		fmt.Print(line)
	}
	if _, err := io.WriteString(c, *msg); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if !*halfClose {
		got := make([]byte, len(*msg))
		if _, err := io.ReadFull(r, got); err != nil {
			return fmt.Errorf("reading %d bytes back: %w", len(got), err)
		}
		fmt.Print(string(got))
		return nil
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("half-closing: %w", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	fmt.Print(string(got))
	return nil
}
