import json,sys
# usage: gemmcmp.py base new rounds
base,new,R=sys.argv[1],sys.argv[2],int(sys.argv[3])
def load(b,r): return {g['name']:g for g in json.load(open(f'gemm-{b}-{r}.json'))['gemm']}
rows={}
for r in range(1,R+1):
    A=load(base,r);B=load(new,r)
    for n in A:
        rows.setdefault(n,[]).append((A[n]['gflops']['median'],B[n]['gflops']['median'],A[n]['ratioToOpenBLAS']['median'],B[n]['ratioToOpenBLAS']['median']))
for n,v in rows.items():
    print(f"{n[5:]:34s} "+"  ".join(f"{a:5.1f}->{b:5.1f} ({b/a:.3f}) oblas {ra:.3f}->{rb:.3f}" for a,b,ra,rb in v))
