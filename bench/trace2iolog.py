#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Convert the block traces of ../shared/traces into fio iolog v2 files.

    trace2iolog.py [--skip N] [--max N] [--granule BYTES] [--parts N]
                   TRACE OUT.iolog

Formats (detected from the file name, parsed without regard to case):
  *.spc    UMass SPC: ASU,LBA(512 B),size bytes,R/W,seconds
  msr-*    MSR cut: ms dev offset_bytes size_bytes 1=read/0=write
  tencent-* ts_ms,latency_us,1=read/0=write,size_bytes,offset_bytes,...
  cloudphysics-* CSV version,time,op(28=read,2a=write),size,lbn(512 B)

The traces span up to 31 GiB of address space but touch far less, and the
lab's disks are small, so the address space is compacted: the touched
granules (64 KiB by default) are laid end to end in their original order.
Locality inside a granule and the order of granules stay as they were;
the distances between far-apart granules shrink (the HDD model sees
shorter seeks than the original disk did).  Offsets are rounded down and
sizes up to 512 B for direct I/O.  The iolog names the device "dev";
replay it with fio --replay_redirect=<device>.  The trace files are only
read, never changed.  A last comment-free line goes to OUT.meta:
  <requests> <compacted bytes> <read percent> <footprint bytes>
  <footprint at 256 KiB chunks> <footprint at 1 MiB chunks>
(footprint: distinct 4 KiB blocks x 4 KiB; at a chunk size: the distinct
chunks of the compacted space those blocks fall in x the chunk size).
--parts N also writes OUT-1.iolog ... OUT-N.iolog, the requests cut into N
consecutive parts of (nearly) the same count, so that a replay can be
measured part by part (bench-setups' tenths).
"""
import argparse
import os
import sys


def parse(path):
    name = os.path.basename(path).lower()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0].isalpha():
                continue
            if name.endswith('.spc'):
                asu, lba, size, op, _ = line.split(',')[:5]
                # each ASU its own 64 GiB range
                yield (op.strip().lower() == 'r',
                       (int(asu) << 36) + int(lba) * 512, int(size))
            elif name.startswith('msr'):
                _, _, off, size, op = line.split()[:5]
                yield op == '1', int(off), int(size)
            elif name.startswith('tencent'):
                p = line.split(',')
                yield p[2] == '1', int(p[4]), int(p[3])
            elif name.startswith('cloudphysics'):
                p = line.split(',')
                yield p[2].lower() == '28', int(p[4]) * 512, int(p[3])
            else:
                sys.exit('unknown trace format: ' + path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--max', type=int, default=0)
    ap.add_argument('--skip', type=int, default=0)
    ap.add_argument('--granule', type=int, default=64 << 10)
    ap.add_argument('--parts', type=int, default=0)
    ap.add_argument('trace')
    ap.add_argument('out')
    a = ap.parse_args()
    g = a.granule
    reqs = []
    for n, (rd, off, size) in enumerate(parse(a.trace)):
        if size <= 0 or n < a.skip:
            continue
        off -= off % 512
        size = (size + 511) // 512 * 512
        reqs.append((rd, off, size))
        if a.max and len(reqs) >= a.max:
            break
    touched = set()
    for _, off, size in reqs:
        touched.update(range(off // g, (off + size - 1) // g + 1))
    index = {gr: i for i, gr in enumerate(sorted(touched))}
    reads = 0
    blocks = set()
    lines = []
    for rd, off, size in reqs:
        new = index[off // g] * g + off % g
        lines.append('dev %s %d %d\n' % ('read' if rd else 'write', new, size))
        reads += rd
        blocks.update(range(new // 4096, (new + size - 1) // 4096 + 1))
    base = os.path.splitext(a.out)[0]
    write_iolog(a.out, lines)
    for k in range(a.parts):
        write_iolog('%s-%d.iolog' % (base, k + 1),
                    lines[k * len(lines) // a.parts:
                          (k + 1) * len(lines) // a.parts])
    chunks = [len({b >> shift for b in blocks}) << (shift + 12)
              for shift in (6, 8)]
    with open(base + '.meta', 'w') as f:
        f.write('%d %d %d %d %d %d\n' % (len(reqs), len(touched) * g,
                                         100 * reads // max(len(reqs), 1),
                                         len(blocks) * 4096, *chunks))


def write_iolog(path, lines):
    with open(path + '.tmp', 'w') as f:
        f.write('fio version 2 iolog\ndev add\ndev open\n')
        f.writelines(lines)
        f.write('dev close\n')
    os.replace(path + '.tmp', path)

if __name__ == '__main__':
    main()
