import { Module } from '@nestjs/common';
import { OrganisationsModule } from '@app/organisations';
import { ImportFactsHandler } from './import-facts.handler';

@Module({ imports: [OrganisationsModule], providers: [ImportFactsHandler] })
export class ImportsModule {}
