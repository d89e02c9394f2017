"""The Python peer of scripts/bench/precision.mjs: what a user would otherwise run, HuggingFace
transformers + peft (LoRA r=16 on query/value, the task head trained) on torch 2.x, in fp32 or bf16
autocast. Reads the job as JSON in argv[1] ({"model", "precision", "steps", "warmup", "batch",
"seq", "images", "imageSize", "threads"}); prints {"train", "eval", "rssMiB", "version"} as JSON.
"""
import contextlib
import json
import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import RobertaConfig, RobertaForSequenceClassification, ViltConfig, ViltForQuestionAnswering


def roberta(job, generator):
    config = RobertaConfig(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                           max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, num_labels=3)
    model = RobertaForSequenceClassification(config)
    lora = LoraConfig(r=16, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"], task_type="SEQ_CLS")
    ids = torch.randint(3, config.vocab_size, (job["batch"], job["seq"]), generator=generator)
    ids[:, 0] = 0
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.arange(job["batch"]) % 3}
    return get_peft_model(model, lora), batch


def vilt(job, generator):
    config = ViltConfig(num_labels=3129, image_size=384, patch_size=32, max_image_length=-1)
    model = ViltForQuestionAnswering(config)
    lora = LoraConfig(r=16, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"], modules_to_save=["classifier"])
    rows, size = job["images"], job["imageSize"]
    ids = torch.randint(1000, 21000, (rows, 40), generator=generator)
    ids[:, 0] = 101
    labels = (torch.rand(rows, 3129, generator=generator) < 0.001).float()
    batch = {
        "input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids),
        "pixel_values": torch.rand(rows, 3, size, size, generator=generator) * 2 - 1,
        "pixel_mask": torch.ones(rows, size, size, dtype=torch.long), "labels": labels,
    }
    return get_peft_model(model, lora), batch


def timed(job, work):
    times = []
    for i in range(job["warmup"] + job["steps"]):
        start = time.perf_counter()
        work()
        if i >= job["warmup"]:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    job = json.loads(sys.argv[1])
    torch.set_num_threads(job["threads"])
    generator = torch.Generator().manual_seed(0)
    model, batch = (roberta if job["model"] == "roberta" else vilt)(job, generator)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if job["precision"] == "bf16" else contextlib.nullcontext

    def train_step():
        model.train()
        with autocast():
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def eval_step():
        model.eval()
        with torch.inference_mode(), autocast():
            model(**batch).loss.item()

    result = {"train": timed(job, train_step), "eval": timed(job, eval_step)}
    result["rssMiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["version"] = torch.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
