#!/usr/bin/python3
"""The original notebook's whole job on CPU, for bench/end_to_end.ts: its own code (../shared/peer/original_pipeline.py:
copy into split/gloss folders, bbox map, OpenCV frames 5..35 with the crop, FrameSequencer's 5-frame windows, CNN_LSTM
with MobileNetV2 recomputed in every forward pass, Adam 1e-4, `--epochs` epochs), and what the original never did
with its test split: per-video top-1 on it (each video's windows' softmax averaged, as ours is scored).

usage: original_job.py --peer ../shared/peer --data DIR --work WORKDIR [--epochs 10] [--batch 16] [--threads 2]
Prints one JSON line on stdout: the peer's timings plus test_top1, test_videos.
"""
import argparse, json, os, random, resource, shutil, sys, time
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True); ap.add_argument("--data", required=True); ap.add_argument("--work", required=True)
    ap.add_argument("--epochs", type=int, default=10); ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    sys.path.insert(0, a.peer)
    import original_pipeline as op  # noqa: E402 (its path is an argument)
    import numpy as np, torch, cv2  # noqa: E402
    from torch.utils.data import DataLoader  # noqa: E402

    torch.set_num_threads(a.threads); cv2.setNumThreads(a.threads); random.seed(0); torch.manual_seed(0)
    shutil.rmtree(a.work, ignore_errors=True); os.makedirs(a.work)
    t = {}; T0 = time.perf_counter()
    s = time.perf_counter(); op.videos_process(f"{a.work}/split", f"{a.data}/WLASL_v0.3.json", f"{a.data}/videos")
    op.bbox_file(f"{a.data}/WLASL_v0.3.json", f"{a.work}/bbox.json"); t["organise_s"] = time.perf_counter() - s
    s = time.perf_counter(); n = op.extract_all(f"{a.work}/split", f"{a.work}/frames", f"{a.work}/bbox.json")
    t["extract_s"] = time.perf_counter() - s; t["videos"] = n
    tr = op.FrameSequencer(f"{a.work}/frames/train"); va = op.FrameSequencer(f"{a.work}/frames/val")
    model = op.CNN_LSTM(len(tr.classes)); opt = torch.optim.Adam(model.parameters(), lr=1e-4); crit = torch.nn.CrossEntropyLoss()
    tl = DataLoader(tr, batch_size=a.batch, shuffle=True); vl = DataLoader(va, batch_size=a.batch)
    s = time.perf_counter()
    for _ in range(a.epochs):
        model.train()
        for x, y in tl:
            loss = crit(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
        model.eval()
        with torch.no_grad():
            for x, y in vl:
                crit(model(x), y)
    t["train_s"] = time.perf_counter() - s; t["train_samples"] = len(tr)

    # Test, per video. FrameSequencer numbers the classes of each split folder on its own (a split without some
    # gloss shifts every later label: another bug of the original), so labels are mapped through gloss names.
    s = time.perf_counter(); correct = 0; videos = 0
    test_root = f"{a.work}/frames/test"
    if os.path.isdir(test_root):
        te = op.FrameSequencer(test_root)
        probs = defaultdict(list); label_of = {}
        model.eval()
        with torch.no_grad():
            for paths, ci in te.samples:
                gloss = te.classes[ci]
                if gloss not in tr.classes:
                    continue
                x = torch.from_numpy(np.array([np.transpose(cv2.resize(cv2.imread(p), te.target), (2, 0, 1)) for p in paths])).float()[None]
                video = os.path.dirname(paths[0])
                probs[video].append(torch.softmax(model(x), dim=1)[0])
                label_of[video] = tr.classes.index(gloss)
        for video, ps in probs.items():
            videos += 1
            correct += int(int(torch.stack(ps).mean(0).argmax()) == label_of[video])
    t["test_s"] = time.perf_counter() - s; t["test_videos"] = videos; t["test_top1"] = correct / videos if videos else None
    t["total_s"] = time.perf_counter() - T0
    t["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(t))


if __name__ == "__main__":
    main()
