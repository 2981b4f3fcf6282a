"""Project 4: an autonomous multimodal multi-agent system. The interface the grader uses, re-exported."""

from agents import Agent, LLMBackend, parse_action
from captioner import Captioner, load_captioner
from system import MultiAgentSystem, RunResult
from tools import Tool, image_tool

__all__ = ["Agent", "Captioner", "LLMBackend", "MultiAgentSystem", "RunResult", "Tool", "image_tool",
           "load_captioner", "parse_action"]
