"""Project 3 reference: retrieval-augmented question answering over your own documents.

    python solution.py ingest DOCS_DIR --index INDEX_DIR [--device auto] [--model PATH]   # adds new files to the index
    python solution.py ask INDEX_DIR "your question" [--k 5] [--device auto] [--model PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from answering import NOT_FOUND_ANSWER, Answer, Answerer, ExtractiveAnswerer
from chunking import MAX_CHUNK_CHARS, Chunk, chunk_document
from embedding import Embedder
from rag import RagSystem, Retrieved
from vector_index import VectorIndex

__all__ = ["NOT_FOUND_ANSWER", "MAX_CHUNK_CHARS", "Answer", "Answerer", "Chunk", "Embedder", "ExtractiveAnswerer", "RagSystem",
           "Retrieved", "VectorIndex", "chunk_document"]


def read_documents(folder: Path, pattern: str) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(folder.glob(pattern)) if path.is_file()}


def ingest_command(arguments: argparse.Namespace, embedder: Embedder) -> None:
    index_dir: Path = arguments.index
    system = RagSystem.load(index_dir, embedder) if index_dir.exists() else RagSystem(embedder)
    known = {chunk.source for chunk in system.chunks}
    documents = {name: text for name, text in read_documents(arguments.docs, arguments.glob).items() if name not in known}
    new_chunks = system.ingest(documents)
    system.save(index_dir)
    print(f"{len(documents)} new documents, {len(new_chunks)} new chunks, {len(system.chunks)} chunks in {index_dir}")


def ask_command(arguments: argparse.Namespace, embedder: Embedder) -> None:
    system = RagSystem.load(arguments.index, embedder)
    answer = system.answer(arguments.question, k=arguments.k)
    print(answer.text)
    cited = {chunk.chunk_id: chunk for chunk in system.chunks if chunk.chunk_id in answer.citations}
    for chunk_id in answer.citations:
        chunk = cited[chunk_id]
        print(f"  [{chunk_id}] {chunk.source}:{chunk.start}-{chunk.end}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cuda or cpu")
    parser.add_argument("--model", default=None, help="sentence-transformers model folder (default all-MiniLM-L6-v2)")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="chunk, embed and index the files of a folder")
    ingest.add_argument("docs", type=Path)
    ingest.add_argument("--index", type=Path, required=True)
    ingest.add_argument("--glob", default="**/*.txt", help="which files of the folder to read")
    ask = commands.add_parser("ask", help="answer a question from an index, with citations")
    ask.add_argument("index", type=Path)
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=5)
    arguments = parser.parse_args()
    embedder = Embedder(arguments.model, device=arguments.device)
    {"ingest": ingest_command, "ask": ask_command}[arguments.command](arguments, embedder)


if __name__ == "__main__":
    main()
