"""The survey project: the project file ``sid.yaml``, its waves, data files and variable roles.

model   Project, Wave, DataFiles, FieldworkFile, Roles, Trends (frozen dataclasses)
load    load_project(DIR): read and validate DIR/sid.yaml once
specs   wave_questionnaire(wave), wave_weighting(wave): specs with the roles applied;
        gross_sample_file(wave)
"""

from sid.project.load import PROJECT_FILE, find_project_file, load_project
from sid.project.model import DataFiles, FieldworkFile, Project, Roles, Trends, Wave
from sid.project.specs import gross_sample_file, wave_questionnaire, wave_weighting

__all__ = ["PROJECT_FILE", "DataFiles", "FieldworkFile", "Project", "Roles", "Trends", "Wave",
           "find_project_file", "gross_sample_file", "load_project", "wave_questionnaire", "wave_weighting"]
