import { Module } from '@nestjs/common';
import { QuestionsRepository } from './questions.repository';
import { QuestionsService } from './questions.service';

@Module({
  providers: [QuestionsRepository, QuestionsService],
  exports: [QuestionsService],
})
export class QuestionsModule {}
