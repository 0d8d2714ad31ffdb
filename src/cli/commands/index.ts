// Every command of the CLI, in the order `memory-r1 --help` lists them. Add a command: one file, one line here.
import type { Command } from '../command';
import { data } from './data';
import { evaluate } from './eval';
import { exportData } from './export';
import { generate } from './generate';
import { makeTinyModel } from './make-tiny-model';
import { metrics } from './metrics';
import { rewardServer } from './reward-server';
import { score } from './score';
import { serve } from './serve';
import { train } from './train';

export const commands: Command[] = [makeTinyModel, data, metrics, generate, score, evaluate, train, serve, exportData, rewardServer];
