#!/usr/bin/env python3
# Footprint and skew of a fio job at chunk granularity (issue 6 OLTP study).
# Make the log on the host with the guest's fio (3.33; the zipf offsets do not
# depend on --randseed nor on the file name: every pass and VM gets the same):
#   fio --name=b --ioengine=null --filename=/dev/mapper/vm1 --rw=randrw --rwmixread=25 \
#     --bsrange=512-2k --random_distribution=zipf:1.1 --iodepth=8 --number_ios=300 \
#     --size=64M --randseed=8 --write_iolog=oltp.log
#   python3 footprint.py oltp.log 64        (volume size in MiB)
import sys, collections
def load(fn):
    raw=[]
    for l in open(fn):
        f=l.split()
        if len(f)==5 and f[2] in('read','write'):
            raw.append((f[2],int(f[3]),int(f[4])))
    # fio 3.33's null engine logs the first I/O once and every later one twice
    return raw[:1]+raw[1::2]
fn=sys.argv[1]; vol=int(sys.argv[2])<<20; ssd_frac=0.5
ops=load(fn)
print(f"{fn}: {len(ops)} I/Os, reads {sum(o[0]=='read' for o in ops)/len(ops):.0%}, distinct 512B blocks {len(set(o[1]//512 for o in ops))}")
for ck in (64,128,256,512,1024):
    cb=ck<<10; n=vol//cb
    cnt=collections.Counter(o[1]//cb for o in ops)
    # reserve: 1% of SSD chunks, at least 1
    ssd=n//2; res=max(1,ssd//100); cap=ssd-res
    top=sorted(cnt.values(),reverse=True)
    best=sum(top[:cap])/len(ops); bestfull=sum(top[:ssd])/len(ops)
    touched=len(cnt)
    # how many chunks needed for 50/80/90%
    def need(p):
        s=0
        for i,c in enumerate(top):
            s+=c
            if s>=p*len(ops): return i+1
    print(f"chunk {ck:5d} KiB: {n} chunks, SSD {ssd} (usable {cap}), touched {touched} ({touched/n:.0%}); best SSD share {best:.1%} (all {ssd}: {bestfull:.1%}); chunks for 50/80/90/100%: {need(.5)}/{need(.8)}/{need(.9)}/{touched}; top chunk {top[0]/len(ops):.1%}")
print("promotable after one pass (heat = accesses in pass 1; same offsets in pass 2): share of pass-2 I/O in chunks with heat >= T, capped at usable SSD")
for ck in (64,256,512,1024):
    cb=ck<<10; n=vol//cb; ssd=n//2; cap=ssd-max(1,ssd//100)
    cnt=collections.Counter(o[1]//cb for o in ops)
    row=[]
    for T in (1,2,4):
        el=sorted([c for c in cnt.values() if c>=T],reverse=True)
        row.append(f"T={T}: {len(el)} chunks, {sum(el[:cap])/len(ops):.0%}")
    print(f"  {ck:5d} KiB: "+"; ".join(row))
