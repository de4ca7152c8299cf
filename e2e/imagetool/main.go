// Command imagetool packs files from this machine into a single-layer image
// tarball in the `docker save` format, which `ctr images import` accepts. It
// lets the local cluster run images without any registry.
//
//	imagetool -o out.tar -t REF [-t REF...] [--entrypoint /bin/x] [--cmd arg]...
//	          [--user 65532] [--arch amd64] [--env K=V]... [--file SRC:DST[:MODE]]...
//	          [--link TARGET:LINK]... [--dir PATH]...
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	out, entrypoint, user, workdir string
	arch                           string
	tags, cmd, env, files, links   multi
	dirs                           multi
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("imagetool", flag.ContinueOnError)
	fs.StringVar(&o.out, "o", "", "output tarball")
	fs.Var(&o.tags, "t", "image reference (repeatable)")
	fs.StringVar(&o.entrypoint, "entrypoint", "", "entrypoint (space separated)")
	fs.Var(&o.cmd, "cmd", "command argument (repeatable)")
	fs.StringVar(&o.user, "user", "", "user")
	fs.StringVar(&o.arch, "arch", "amd64", "image architecture (GOARCH of the files)")
	fs.StringVar(&o.workdir, "workdir", "/", "working directory")
	fs.Var(&o.env, "env", "environment K=V (repeatable)")
	fs.Var(&o.files, "file", "SRC:DST[:MODE] (repeatable)")
	fs.Var(&o.links, "link", "TARGET:LINK symlink (repeatable)")
	fs.Var(&o.dirs, "dir", "directory to create (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.out == "" || len(o.tags) == 0 {
		return errors.New("-o and -t are required")
	}
	layer, err := buildLayer(o)
	if err != nil {
		return err
	}
	return writeImage(o, layer)
}

// buildLayer writes the layer tar: directories first (parents included),
// then files and links, all owned by root, with a fixed mtime so the same
// input gives the same image ID.
func buildLayer(o options) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	dirs := map[string]bool{}
	addDir := func(p string) {
		p = strings.Trim(path.Clean(p), "/")
		var parts []string
		for _, s := range strings.Split(p, "/") {
			if s == "" {
				continue
			}
			parts = append(parts, s)
			dirs[strings.Join(parts, "/")] = true
		}
	}
	for _, d := range o.dirs {
		addDir(d)
	}
	addDir("tmp")
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	var entries []entry
	for _, f := range o.files {
		parts := strings.Split(f, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("--file %q: want SRC:DST[:MODE]", f)
		}
		data, err := os.ReadFile(parts[0])
		if err != nil {
			return nil, err
		}
		mode := int64(0o755)
		if len(parts) == 3 {
			m, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil {
				return nil, fmt.Errorf("--file %q: bad mode: %v", f, err)
			}
			mode = m
		}
		dst := strings.TrimPrefix(path.Clean(parts[1]), "/")
		addDir(path.Dir(dst))
		entries = append(entries, entry{&tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: mode, Size: int64(len(data)), ModTime: mtime}, data})
	}
	for _, l := range o.links {
		target, link, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("--link %q: want TARGET:LINK", l)
		}
		link = strings.TrimPrefix(path.Clean(link), "/")
		addDir(path.Dir(link))
		entries = append(entries, entry{&tar.Header{Typeflag: tar.TypeSymlink, Name: link, Linkname: target, Mode: 0o777, ModTime: mtime}, nil})
	}
	var dl []string
	for d := range dirs {
		if d != "." {
			dl = append(dl, d)
		}
	}
	sort.Strings(dl)
	for _, d := range dl {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].hdr.Name < entries[j].hdr.Name })
	for _, e := range entries {
		if err := tw.WriteHeader(e.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeImage writes manifest.json, the config and the layer as a docker-save tarball.
func writeImage(o options, layer []byte) error {
	layerID := digest(layer)
	cfg := map[string]any{
		"architecture": o.arch,
		"os":           "linux",
		"created":      "1970-01-01T00:00:00Z",
		"config": map[string]any{
			"Entrypoint": fieldsOrNil(o.entrypoint),
			"Cmd":        []string(o.cmd),
			"Env":        append([]string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"}, o.env...),
			"User":       o.user,
			"WorkingDir": o.workdir,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgName := digest(cfgJSON) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config":   cfgName,
		"RepoTags": []string(o.tags),
		"Layers":   []string{layerID + "/layer.tar"},
	}})
	if err != nil {
		return err
	}
	f, err := os.Create(o.out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	write := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := io.Copy(tw, bytes.NewReader(data))
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: layerID + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{layerID + "/layer.tar", layer}, {cfgName, cfgJSON}, {"manifest.json", manifest}} {
		if err := write(e.name, e.data); err != nil {
			f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fieldsOrNil(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
