"""The test-driven pipeline: the control flow is code, the model only writes candidates.

config     each effort level as data: sources, budgets, scorers, prompt sections
stages     reproduce (Evidence), a test written when none fails, localize (Regions)
places     the next place after a round that fixed nothing; windows of long functions
sources/   one module per candidate source and prompt section
runner     the stages, then rounds over the declared sources until one is green
outcome    the chosen candidate, or no change and the closest one in the log
"""

from agent.pipeline.config import PIPELINE_CONFIGS, PipelineConfig, SourceSpec, config_of
from agent.pipeline.outcome import PipelineOutcome
from agent.pipeline.runner import Pipeline
from agent.pipeline.stages import GENERATED_TEST

__all__ = [
    "GENERATED_TEST", "PIPELINE_CONFIGS", "Pipeline", "PipelineConfig", "PipelineOutcome",
    "SourceSpec", "config_of",
]  # fmt: skip
